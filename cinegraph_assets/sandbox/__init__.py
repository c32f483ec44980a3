"""Local stand-in for TMDb, OMDb and the Oscar source. Imports nothing of the pipeline."""
