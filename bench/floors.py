"""The two floors the line is measured against, served by gunicorn exactly like the line.

bare:   a Flask route answering a constant TwiML document of the line's size.
signed: the same after parsing the form and checking X-Twilio-Signature with the twilio library,
        the work any correct webhook must do.
`BENCH_FLOOR_BODY` is the file holding the document; `TWILIO_AUTH_TOKEN` the token.
"""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, Response, abort, request
from twilio.request_validator import RequestValidator

BODY = Path(os.environ["BENCH_FLOOR_BODY"]).read_bytes()
TOKEN = os.environ["TWILIO_AUTH_TOKEN"]

bare = Flask("bare")
signed = Flask("signed")


@bare.route("/voice", methods=["POST"])
@bare.route("/voice/<path:rest>", methods=["POST"])
def bare_answer(rest: str = "") -> Response:
    return Response(BODY, 200, mimetype="text/xml")


@signed.route("/voice", methods=["POST"])
@signed.route("/voice/<path:rest>", methods=["POST"])
def signed_answer(rest: str = "") -> Response:
    signature = request.headers.get("X-Twilio-Signature", "")
    if not RequestValidator(TOKEN).validate(request.url, request.form.to_dict(), signature):
        abort(403)
    return Response(BODY, 200, mimetype="text/xml")
