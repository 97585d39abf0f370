"""The ceiling for scripts/bench.py: a bare Flask route, served by the same
gunicorn settings as Itaku."""
from flask import Flask

app = Flask(__name__)


@app.get("/hello")
def hello():
    return "hello"
