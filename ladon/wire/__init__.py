"""Wire formats that more than one part of Ladon reads or writes, cut along
their specifications: :mod:`.schema` (XML Schema and JSON type names, the
namespaces of SOAP and WSDL), :mod:`.xml` (parsing untrusted XML safely,
escaping text) and :mod:`.multipart` (MIME ``multipart/related`` bodies, for
the server and the JSON-WSP client alike).

Nothing here knows about services, interfaces or the server: it imports only
:mod:`ladon.types` and :mod:`ladon.exceptions`.

.. versionadded:: 2.0
"""
