"""cinegraph_assets: TMDb's movie catalog, year by year, in a SQL warehouse, with OMDb ratings and Oscars."""
