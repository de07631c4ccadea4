"""The baseline for bench/webhook.py: a Flask app that answers "ok" and does nothing else."""

from flask import Flask

app = Flask(__name__)


@app.post("/callback")
def callback():
    return "ok"
