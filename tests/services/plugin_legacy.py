"""A Ladon 1.0-style interface plug-in, written against the 1.0 API:
``plaintext`` (request ``method name=value ...``; answer the result as text)."""

import json

from ladon.interfaces import expose
from ladon.interfaces.base import BaseFaultHandler
from ladon.interfaces.base import BaseInterface
from ladon.interfaces.base import BaseRequestHandler
from ladon.interfaces.base import BaseResponseHandler
from ladon.interfaces.base import ServiceDescriptor


class PlainTextDescriptor(ServiceDescriptor):
    _content_type = "text/plain"

    def generate(
        self, servicename, servicenumber, typemanager, methodlist, service_url, encoding, **kw
    ):
        lines = [f"{servicename} at {service_url}"]
        for m in methodlist:
            args = " ".join(
                f"{a['name']}:{getattr(a['type'], '__name__', a['type'])}" for a in m.args()
            )
            lines.append(f"{m.name()} {args}".rstrip())
        return "\n".join(lines)


class PlainTextRequestHandler(BaseRequestHandler):
    def parse_request(self, req, sinfo, encoding):
        words = req.decode(encoding).split()
        args = {}
        for word in words[1:]:
            name, _, value = word.partition("=")
            args[name] = value
        return {"methodname": words[0] if words else "", "args": args}


class PlainTextResponseHandler(BaseResponseHandler):
    _content_type = "text/plain"
    _stringify_res_dict = True

    def build_response(self, res_dict, sinfo, encoding):
        return json.dumps(res_dict["result"]).encode(encoding)


class PlainTextFaultHandler(BaseFaultHandler):
    _content_type = "text/plain"

    def build_fault_response(self, service_exc, sinfo, methodname, encoding, reflection):
        return f"FAULT {service_exc.faultcode}: {service_exc.faultstring}"


@expose
class PlainTextInterface(BaseInterface):
    def __init__(self, sinfo, **kw):
        def_kw = {
            "service_descriptor": PlainTextDescriptor,
            "request_handler": PlainTextRequestHandler,
            "response_handler": PlainTextResponseHandler,
            "fault_handler": PlainTextFaultHandler,
        }
        def_kw.update(kw)
        BaseInterface.__init__(self, sinfo, **def_kw)

    @staticmethod
    def _interface_name():
        return "plaintext"
