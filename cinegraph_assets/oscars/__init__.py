"""The oscars room: Academy Award nominations attached to movies and people.

- source.py    reads the oscar_data table (OSCARS_SOURCE_URL), cached with ETag/Last-Modified/sha256,
               and parses every quirk of the real file (plain Python)
- match.py     nominated film -> movie (IMDb id, else normalized title within a year), nominee ->
               TMDb person in that movie's credits (plain Python)
- load.py      one film year: read candidates, match, link, write in one transaction (plain Python)
- resource.py  OscarsSourceResource ("oscars_source")
- assets.py    oscar_nominations (group oscars, partitioned by film year, reads movies Y-1..Y+1)
- checks.py    IMDb-id match coverage >= 99%, every Best Picture nomination matched
SQL lives in warehouse/oscars.py; tables in warehouse/schema.py (migration 0004_oscars).
"""
