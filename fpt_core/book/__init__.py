"""What only the book's notebooks use: tables, charts and narrative pieces built from results.

Each module holds one concept (e.g. a prediction-vs-measured table); none of them trains.
"""
