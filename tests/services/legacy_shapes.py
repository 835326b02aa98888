"""A service module written exactly as for Ladon 1.0 (its import paths,
PORTABLE_STRING, dict-declared fields, positional types)."""

from ladon.compat import PORTABLE_BYTES
from ladon.compat import PORTABLE_STRING
from ladon.exceptions.service import ClientFault
from ladon.exceptions.service import ServerFault
from ladon.ladonizer import ladonize
from ladon.types.ladontype import LadonType


class Point(LadonType):
    x = int
    y = int


class Style(LadonType):
    color = {"type": PORTABLE_STRING, "default": "black", "doc": "CSS colour name"}
    dashed = {"type": bool, "default": False}
    width = {"type": float, "nullable": True}


class Polygon(LadonType):
    name = PORTABLE_STRING
    points = [Point]
    style = {"type": Style, "nullable": True}
    tags = [PORTABLE_STRING]


class Measure(LadonType):
    whole = int
    exact = float


class Shapes(object):
    """Geometry on the wire: nested types, lists, nullable fields."""

    @ladonize(int, int, rtype=int)
    def add(self, a, b):
        """Sum two integers.

        @param a: the first term
        @param b: the second term
        @rtype: the sum
        """
        return a + b

    @ladonize(PORTABLE_STRING, rtype=PORTABLE_STRING)
    def shout(self, text):
        return text.upper() + "!"

    @ladonize(PORTABLE_STRING, rtype=PORTABLE_STRING)
    def echo(self, text):
        return text

    @ladonize(PORTABLE_BYTES, rtype=PORTABLE_BYTES)
    def echo_bytes(self, data):
        return data

    @ladonize(bool, rtype=bool)
    def negate(self, flag):
        return not flag

    @ladonize(float, rtype=float)
    def half(self, x):
        return x / 2

    @ladonize([int], rtype=[int])
    def squares(self, numbers):
        return [n * n for n in numbers]

    @ladonize([PORTABLE_STRING], rtype=[PORTABLE_STRING])
    def reverse_words(self, words):
        return list(reversed(words))

    @ladonize(int, int, rtype=Point)
    def make_point(self, x, y):
        p = Point()
        p.x = x
        p.y = y
        return p

    @ladonize(Point, rtype=Point)
    def mirror(self, p):
        return Point(x=p.y, y=p.x)

    @ladonize(Polygon, rtype=Polygon)
    def echo_polygon(self, polygon):
        return polygon

    @ladonize(PORTABLE_STRING, rtype=Polygon)
    def empty_polygon(self, name):
        poly = Polygon()
        poly.name = name
        return poly

    @ladonize([Point], rtype=[Point])
    def mirror_all(self, points):
        return [Point(x=p.y, y=p.x) for p in points]

    @ladonize(float, rtype=Measure)
    def measure(self, value):
        m = Measure()
        m.whole = int(value)
        m.exact = value
        return m

    @ladonize(int, int, rtype=int)
    def divide(self, a, b=2):
        return a // b

    @ladonize(PORTABLE_STRING, rtype=PORTABLE_STRING)
    def fail(self, how):
        if how == "client":
            raise ClientFault("you asked for it")
        if how == "hint":
            raise ClientFault("no such colour", hint="try how=client")
        if how == "server":
            raise ServerFault("backend down: " + how, detail="custom detail text")
        raise RuntimeError("secret internal state /etc/passwd")
