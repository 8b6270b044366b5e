"""Call a submission's code in another process, exchanging plain values (the PrairieLearn way).

The autograder's tests run in a trusted process; the learner's modules are
imported only in the submission's own process (:mod:`.module_server`, inside
its sandbox). ``target.load("agent")`` gives the test a :class:`Remote` for the
module; calling ``run_agent(fake, tools, "hi")`` on it sends the arguments
across, runs the function there and sends its result back. So every assertion
is evaluated where the submission's code never runs, and nothing the grader
trusts (the tests, their expected values, the channel to the supervisor) is in
the submission's memory.

What crosses is **data**, rebuilt on the receiving side without running the
sender's code: ``None``, booleans, numbers, strings, bytes, lists, tuples,
dicts, sets, NumPy arrays and scalars, paths, slices, type annotations
(``list[int]``, ``Literal["a", 1]``), enums, dataclasses, named tuples and
pydantic models of trusted modules (``course.*``, and a few libraries the
tests use), and exceptions. On the trusted side, a dataclass, named tuple or
exception of the submission's own module becomes a :class:`Record` or a class
made here with the same name: the submission's methods (``__eq__`` above all)
never run where a verdict is made.

Anything else is passed **by reference**: a handle whose attribute reads,
calls and iteration go back to the side that owns the object. The tests' fakes
(a scripted backend, a recording ``sleep``) are handles on the submission's
side; a submission's object (an agent class's instance, a generator) is a
handle on the trusted side. A handle on the submission's side reaches only
public attributes and methods (no name starting with ``_``), never a module or
a class, so the submission cannot walk from a fake to the grader's internals.

Calls nest: while the trusted side waits for ``run_agent`` to return, the
submission calls ``fake.chat(...)`` back, and the trusted side serves it. The
submission's threads may call back too; the submission's main thread runs
every call the trusted side makes, so objects tied to one thread (an SQLite
connection) keep working.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import inspect
import itertools
import json
import os
import queue
import struct
import threading
import types
import typing
import weakref
from pathlib import PurePath
from typing import Any

MAX_MESSAGE = 512 * 1024 * 1024  # a frame bigger than this is a broken or hostile peer
MAX_DEPTH = 200
_HEADER = struct.Struct(">I")
_BUFLEN = struct.Struct(">Q")

# Classes of these modules are rebuilt as themselves on the trusted side (dataclasses, enums, named tuples,
# pydantic models, exceptions); a class of any other module arrives as a Record or a stand-in class.
TRUSTED_MODULES = ("course", "builtins", "ollama", "openai", "httpx", "json", "sqlite3", "pathlib", "numpy",
                   "hypothesis", "pydantic", "datetime", "decimal", "fractions", "collections", "typing", "struct",
                   "zoneinfo", "socket", "urllib", "http", "subprocess", "concurrent", "asyncio", "yaml")

# Operations one side may ask of a handle the other side owns.
OPS = {"getattr", "setattr", "call", "callmethod", "iter", "next", "len", "getitem", "setitem", "contains", "repr", "str", "bool",
       "enter", "exit"}


RELAY_ENV = "COURSE_RELAY"  # the Unix socket to the grader's loopback relay (only under bubblewrap)


def pump(src, dst) -> None:
    """Copy one direction of a relayed connection until it ends."""
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(2 - 1)  # SHUT_WR
        except OSError:
            pass


class RemoteError(Exception):
    """The other side broke the protocol, or an object could not cross."""


class SubmissionDied(RemoteError):
    """The submission's process ended while a test was talking to it."""


class NotAllowed(AttributeError):
    """A submission asked a trusted object for something it may not have."""


class Record:
    """A value of a class of the submission, as plain fields: ``.name`` reads a field; equal to a Record or a
    dataclass of the same class name with the same fields."""

    def __init__(self, cls_name: str, fields: dict[str, Any]):
        object.__setattr__(self, "_cls_name", cls_name)
        object.__setattr__(self, "_fields", dict(fields))

    def __getattr__(self, name: str) -> Any:
        fields = object.__getattribute__(self, "_fields")
        if name in fields:
            return fields[name]
        raise AttributeError(f"{self._cls_name} has no field {name!r} (fields: {', '.join(fields)})")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"a {self._cls_name} from the submission is read-only")

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Record):
            return (self._cls_name, self._fields) == (other._cls_name, other._fields)
        if dataclasses.is_dataclass(other) and not isinstance(other, type):
            return (type(other).__name__ == self._cls_name.rsplit(".", 1)[-1]
                    and {f.name: getattr(other, f.name) for f in dataclasses.fields(other)} == self._fields)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        inside = ", ".join(f"{k}={v!r}" for k, v in self._fields.items())
        return f"{self._cls_name.rsplit('.', 1)[-1]}({inside})"

    def __iter__(self):  # a named tuple stays iterable
        return iter(self._fields.values())

    def _asdict(self) -> dict[str, Any]:
        return dict(self._fields)


_standins: dict[tuple[str, tuple], type] = {}


def _standin_class(path: str, bases: tuple[type, ...]) -> type:
    """A class made on the trusted side for an exception class of the submission (same name, same kind)."""
    key = (path, bases)
    if key not in _standins:
        module, _, qualname = path.partition(":")
        cls = type(qualname.rsplit(".", 1)[-1], bases or (Exception,), {"__module__": module,
                                                                          "__qualname__": qualname})
        _standins[key] = cls
    return _standins[key]


def _standin_namedtuple(path: str, fields: tuple[str, ...]) -> type:
    """A named tuple class made here for a named tuple of the submission (same name and fields)."""
    import collections

    key = (path, fields)
    if key not in _standins:
        name = path.rsplit(":", 1)[-1].rsplit(".", 1)[-1]
        _standins[key] = collections.namedtuple(name if name.isidentifier() else "Record", fields, rename=True)
    return _standins[key]


def class_path(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _trusted_module(module: str) -> bool:
    return module.split(".", 1)[0] in TRUSTED_MODULES


_SPECIAL = {"builtins:NoneType": type(None), "builtins:ellipsis": type(Ellipsis),
            "builtins:NotImplementedType": type(NotImplemented)}


def _import_class(path: str) -> Any:
    if path in _SPECIAL:
        return _SPECIAL[path]
    module, _, qualname = path.partition(":")
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


class Channel:
    """One end of the conversation between the trusted process and the submission's process."""

    def __init__(self, rfd: int, wfd: int, *, trusted: bool):
        self.rfd, self.wfd = rfd, wfd
        self.trusted = trusted
        self.objects: dict[int, Any] = {}  # handle id -> object this side owns
        self._exported: dict[int, int] = {}  # id(object) -> its handle (the object stays alive in self.objects)
        self._remotes: weakref.WeakValueDictionary[int, Remote] = weakref.WeakValueDictionary()  # one per handle
        self._read_lock = threading.Lock()
        self._rbuf = bytearray()
        self._ids = itertools.count(1)
        self._calls = itertools.count(1)
        self._send_lock = threading.Lock()
        self._call_lock = threading.RLock()
        self.closed = False
        self.describe_exit = None  # how the other side ended (a callable the owner of its process sets)
        # the submission's side: the thread that holds _read_lock reads, and hands what is for others to their queues
        self._queues: dict[str, queue.Queue] = {}
        self._local = threading.local()

    # -- framing -------------------------------------------------------------------------------

    def _send(self, header: dict, buffers: list[bytes]) -> None:
        header["n"] = len(buffers)
        head = json.dumps(header, allow_nan=True).encode()
        parts = [_HEADER.pack(len(head)), head]
        for buf in buffers:
            parts += [_BUFLEN.pack(len(buf)), buf]
        data = memoryview(b"".join(parts))
        with self._send_lock:
            try:
                while data:
                    data = data[os.write(self.wfd, data):]
            except OSError as exc:
                self.closed = True
                raise SubmissionDied(self._died(f"writing to it failed ({exc})")) from None

    def _read_exact(self, n: int) -> bytes:
        buf = self._rbuf
        while len(buf) < n:
            try:
                chunk = os.read(self.rfd, max(n - len(buf), 1 << 16))
            except OSError:
                chunk = b""
            if not chunk:
                self.closed = True
                raise SubmissionDied(self._died("it closed the channel"))
            buf += chunk
        out = bytes(buf[:n])
        del buf[:n]
        return out

    def _recv(self) -> tuple[dict, list[bytes]]:
        try:
            return self._recv_frame()
        except RemoteError:
            self.closed = True  # a broken frame leaves the stream out of step: nothing after it can be read
            raise

    def _recv_frame(self) -> tuple[dict, list[bytes]]:
        (size,) = _HEADER.unpack(self._read_exact(_HEADER.size))
        if size > MAX_MESSAGE:
            raise RemoteError(f"a message of {size} bytes is more than the {MAX_MESSAGE} allowed")
        try:
            header = json.loads(self._read_exact(size))
            count = int(header["n"])
        except (ValueError, KeyError, TypeError) as exc:
            raise RemoteError(f"a malformed message on the channel ({exc})") from None
        buffers = []
        total = size
        for _ in range(count):
            (length,) = _BUFLEN.unpack(self._read_exact(_BUFLEN.size))
            total += length
            if total > MAX_MESSAGE:
                raise RemoteError(f"a message of more than {MAX_MESSAGE} bytes")
            buffers.append(self._read_exact(length))
        return header, buffers

    def _died(self, what: str) -> str:
        who = "the submission's process" if self.trusted else "the grader"
        note = self.describe_exit() if self.describe_exit else ""
        return f"{who} ended: {what}" + (f" ({note})" if note else "")

    # -- encoding ------------------------------------------------------------------------------

    def export(self, obj: Any) -> int:
        handle = self._exported.get(id(obj))
        if handle is not None and self.objects.get(handle) is obj:
            return handle
        handle = next(self._ids)
        self.objects[handle] = obj
        self._exported[id(obj)] = handle
        return handle

    def encode(self, value: Any, buffers: list[bytes], depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise RemoteError("a value nested too deeply to send")
        t = type(value)
        if value is None or t in (bool, int, str):
            return value
        if t is Remote and value._channel is self:
            return ["o", value._handle]  # the other side's own object, going home
        if isinstance(getattr(value, "__wrapped_remote__", None), Remote) and value.__wrapped_remote__._channel is self:
            return ["o", value.__wrapped_remote__._handle]
        if t is float:
            return value if value == value and value not in (float("inf"), float("-inf")) else ["f", repr(value)]
        enc = lambda v: self.encode(v, buffers, depth + 1)  # noqa: E731
        if t is list:
            return ["l", [enc(v) for v in value]]
        if t is tuple:
            return ["t", [enc(v) for v in value]]
        if t is dict:
            return ["d", [[enc(k), enc(v)] for k, v in value.items()]]
        if t in (set, frozenset):
            return ["s" if t is set else "fs", [enc(v) for v in value]]
        if t in (bytes, bytearray):
            buffers.append(bytes(value))
            return ["b", len(buffers) - 1, t is bytearray]
        if t is complex:
            return ["cx", value.real, value.imag]
        if t is slice:
            return ["sl", enc(value.start), enc(value.stop), enc(value.step)]
        if value is Ellipsis:
            return ["el"]
        if isinstance(value, PurePath):
            return ["p", class_path(t), str(value)]
        np = _numpy()
        if np is not None:
            if t is np.ndarray and value.dtype.kind not in "OV":
                buffers.append(np.ascontiguousarray(value).tobytes())
                return ["nd", value.dtype.str, list(value.shape), len(buffers) - 1]
            if isinstance(value, np.generic) and value.dtype.kind not in "OV":
                buffers.append(value.tobytes())
                return ["ns", value.dtype.str, len(buffers) - 1]
            if t is np.dtype:
                return ["dty", value.str]
        if isinstance(value, enum.Enum):
            return ["en", class_path(t), enc(value.value)]
        if isinstance(value, type):
            return self._encode_type(value, enc)
        if _is_annotation(value):
            return ["ann", _annotation_name(value), [enc(a) for a in typing.get_args(value)]]
        if isinstance(value, BaseException):
            bases = [class_path(b) for b in t.__mro__[1:] if issubclass(b, BaseException)]
            args = []
            for a in value.args:
                try:
                    args.append(enc(a))
                except RemoteError:
                    args.append(repr(a))
            return ["x", class_path(t), bases, args, str(value)[:4000]]
        if dataclasses.is_dataclass(value) and (self.trusted or _trusted_module(t.__module__)):
            return ["dc", class_path(t), [[f.name, enc(getattr(value, f.name))] for f in dataclasses.fields(value)
                                          if hasattr(value, f.name)]]
        if isinstance(value, tuple) and hasattr(t, "_fields") and isinstance(t._fields, tuple):
            return ["nt", class_path(t), [[k, enc(v)] for k, v in zip(t._fields, value)]]
        if _is_pydantic(value):
            return ["pm", class_path(t), enc(value.model_dump(mode="python"))]
        if self.trusted and isinstance(value, types.FunctionType):
            return self._encode_function(value, enc)
        if isinstance(value, types.MethodType) and isinstance(getattr(value, "__name__", None), str):
            return ["m", self.export(value.__self__), value.__name__]
        if isinstance(value, (types.ModuleType,)):
            if self.trusted:
                raise RemoteError(f"a module ({value.__name__}) cannot be passed to the submission")
            return ["h", self.export(value), "module " + value.__name__]
        return ["h", self.export(value), t.__name__]

    def _encode_type(self, cls: type, enc) -> list:
        if issubclass(cls, BaseException):
            return ["ec", class_path(cls), [class_path(b) for b in cls.__mro__[1:] if issubclass(b, BaseException)]]
        if cls.__module__ == "builtins" or cls is type(None):
            return ["ty", class_path(cls)]
        if self.trusted:
            if _trusted_module(cls.__module__):
                return ["ty", class_path(cls)]
            raise RemoteError(f"the class {cls.__qualname__} cannot be passed to the submission")
        return ["h", self.export(cls), "class " + cls.__qualname__]

    def _encode_function(self, func: types.FunctionType, enc) -> list:
        """A trusted plain function: a handle, with its name, docstring and signature, so that the submission
        can read its signature and annotations as it would the function's own."""
        try:
            hints = typing.get_type_hints(func)
        except Exception:  # noqa: BLE001 - unresolvable annotations: send the raw ones
            hints = dict(getattr(func, "__annotations__", {}))
        try:
            sig = inspect.signature(func)
        except (TypeError, ValueError):
            sig = None
        params = []
        if sig is not None:
            for p in sig.parameters.values():
                default = None if p.default is inspect.Parameter.empty else ["v", enc(p.default)]
                ann = ["v", enc(hints[p.name])] if p.name in hints else None
                params.append([p.name, int(p.kind), default, ann])
        ret = ["v", enc(hints["return"])] if "return" in hints else None
        return ["fn", self.export(func), func.__name__, func.__qualname__, func.__doc__, params if sig else None, ret]

    def decode(self, value: Any, buffers: list[bytes], depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise RemoteError("a value nested too deeply")
        if not isinstance(value, list):
            if value is None or type(value) in (bool, int, float, str):
                return value
            raise RemoteError(f"a malformed value on the channel ({type(value).__name__})")
        if not value or not isinstance(value[0], str):
            raise RemoteError("a malformed value on the channel")
        tag = value[0]
        dec = lambda v: self.decode(v, buffers, depth + 1)  # noqa: E731
        try:
            if tag == "l":
                return [dec(v) for v in value[1]]
            if tag == "t":
                return tuple(dec(v) for v in value[1])
            if tag == "d":
                return {dec(k): dec(v) for k, v in value[1]}
            if tag == "s":
                return {dec(v) for v in value[1]}
            if tag == "fs":
                return frozenset(dec(v) for v in value[1])
            if tag == "f":
                return float(value[1])
            if tag == "b":
                data = buffers[value[1]]
                return bytearray(data) if value[2] else data
            if tag == "cx":
                return complex(value[1], value[2])
            if tag == "sl":
                return slice(dec(value[1]), dec(value[2]), dec(value[3]))
            if tag == "el":
                return Ellipsis
            if tag == "p":
                cls = self._trusted_class(value[1], PurePath)
                return (cls or PurePath)(value[2]) if cls is not None else __import__("pathlib").Path(value[2])
            if tag in ("nd", "ns", "dty"):
                np = _numpy()
                if np is None:
                    raise RemoteError("a NumPy value arrived where NumPy is not installed")
                if tag == "dty":
                    return np.dtype(value[1])
                dtype = np.dtype(value[1])
                if dtype.kind in "OV":
                    raise RemoteError("NumPy object arrays cannot cross")
                if tag == "ns":
                    return np.frombuffer(buffers[value[2]], dtype=dtype)[0]
                shape = tuple(int(s) for s in value[2])
                return np.frombuffer(buffers[value[3]], dtype=dtype).reshape(shape).copy()
            if tag == "en":
                cls = self._trusted_class(value[1], enum.Enum)
                inner = dec(value[2])
                return cls(inner) if cls is not None else inner
            if tag == "ty":
                return self._class(value[1], None)
            if tag == "ann":
                return _make_annotation(value[1], [dec(a) for a in value[2]])
            if tag == "ec":
                return self._exception_class(value[1], value[2])
            if tag == "x":
                cls = self._exception_class(value[1], value[2])
                args = [dec(a) for a in value[3]]
                try:
                    exc = cls(*args)
                except Exception:  # noqa: BLE001 - a constructor that wants other arguments
                    exc = cls.__new__(cls)
                    exc.args = tuple(args)
                return exc
            if tag in ("dc", "nt"):
                fields = {k: dec(v) for k, v in value[2]}
                cls = self._trusted_class(value[1], object)
                if cls is not None and tag == "nt" and hasattr(cls, "_fields"):
                    return cls(**fields)
                if tag == "nt":
                    return _standin_namedtuple(value[1], tuple(fields))(**fields)
                if cls is not None and dataclasses.is_dataclass(cls):
                    obj = cls.__new__(cls)
                    for k, v in fields.items():
                        object.__setattr__(obj, k, v)
                    return obj
                return Record(value[1].replace(":", "."), fields)
            if tag == "pm":
                data = dec(value[2])
                cls = self._trusted_class(value[1], object)
                if cls is not None and _is_pydantic_class(cls):
                    return cls.model_validate(data)
                return data
            if tag == "h":
                handle = int(value[1])
                known = self._remotes.get(handle)
                if known is None:
                    known = self._remotes[handle] = Remote(self, handle, str(value[2]))
                return known
            if tag == "m":
                return RemoteMethod(self, int(value[1]), str(value[2]))
            if tag == "fn":
                return self._function_stub(value, dec)
            if tag == "o":  # a handle of ours coming back
                return self.objects[int(value[1])]
        except RemoteError:
            raise
        except (IndexError, KeyError, TypeError, ValueError) as exc:
            raise RemoteError(f"a malformed value on the channel ({tag}: {exc})") from None
        raise RemoteError(f"an unknown kind of value on the channel ({tag!r})")

    def _trusted_class(self, path: str, base: type) -> type | None:
        """The class named by ``path`` where this side may build it, else None (the trusted side only imports
        classes of trusted modules)."""
        module = path.partition(":")[0]
        if self.trusted and not _trusted_module(module):
            return None
        try:
            cls = _import_class(path)
        except Exception:  # noqa: BLE001 - not importable here
            return None
        return cls if isinstance(cls, type) and issubclass(cls, base) else None

    def _class(self, path: str, base: type | None) -> type:
        cls = self._trusted_class(path, base or object)
        if cls is None:
            raise RemoteError(f"the class {path} cannot be rebuilt here")
        return cls

    def _exception_class(self, path: str, bases: list[str]) -> type:
        cls = self._trusted_class(path, BaseException)
        if cls is not None:
            return cls
        real = next((c for c in (self._trusted_class(b, BaseException) for b in bases) if c is not None), Exception)
        parents = [b for b in bases if self._trusted_class(b, BaseException) is None]
        base = _standin_class(parents[0], (real,)) if parents else real
        return _standin_class(path, (base,))

    def _function_stub(self, value: list, dec) -> Any:
        _, handle, name, qualname, doc, params, ret = value
        remote = Remote(self, int(handle), "function " + name)

        def stub(*args, **kwargs):
            return remote(*args, **kwargs)

        stub.__name__, stub.__qualname__, stub.__doc__ = name, qualname, doc
        if params is not None:
            annotations = {}
            parameters = []
            for pname, kind, default, ann in params:
                extra = {}
                if default is not None:
                    extra["default"] = dec(default[1])
                if ann is not None:
                    extra["annotation"] = annotations.setdefault(pname, dec(ann[1]))
                parameters.append(inspect.Parameter(pname, inspect._ParameterKind(kind), **extra))
            if ret is not None:
                annotations["return"] = dec(ret[1])
            stub.__signature__ = inspect.Signature(
                parameters, return_annotation=annotations.get("return", inspect.Signature.empty))
            stub.__annotations__ = annotations
        stub.__wrapped_remote__ = remote
        return stub

    # -- requests ------------------------------------------------------------------------------

    def request(self, op: str, handle: int, name: str | None = None, args: tuple = (), kwargs: dict | None = None
                ) -> Any:
        """Ask the other side to do ``op`` on its object ``handle``; serve its requests while waiting."""
        if self.closed:
            raise SubmissionDied(self._died("earlier in this test"))
        buffers: list[bytes] = []
        call_id = next(self._calls)
        header = {"k": "req", "id": call_id, "op": op, "h": handle, "name": name,
                  "args": self.encode(tuple(args), buffers), "kwargs": self.encode(dict(kwargs or {}), buffers),
                  "tt": self._thread_token()}
        if not self.trusted:  # replies find their thread through its queue
            self._send(header, buffers)
            return self._wait(call_id, args, kwargs)
        with self._call_lock:  # the grader's threads take turns
            self._send(header, buffers)
            return self._wait(call_id, args, kwargs)

    def _thread_token(self) -> str:
        if self.trusted:
            stack = getattr(self._local, "serving", None)
            return stack[-1] if stack else "main"
        return "main" if threading.current_thread() is threading.main_thread() else str(threading.get_ident())

    def _wait(self, call_id: int, args: tuple = (), kwargs: dict | None = None) -> Any:
        while True:
            header, buffers = self._next_message()
            if header.get("k") == "req":
                self._serve(header, buffers)
                continue
            if header.get("id") != call_id:
                self.closed = True
                raise RemoteError("a reply to a call that was not made")
            for key, new in header.get("back") or ():
                if not isinstance(key, (int, str)):
                    raise RemoteError("a malformed reply on the channel")
                original = args[key] if isinstance(key, int) and 0 <= key < len(args) else (kwargs or {}).get(key)
                _copy_into(original, self.decode(new, buffers))
            if header["k"] == "ok":
                return self.decode(header["v"], buffers)
            if header["k"] == "err":
                exc = self.decode(header["e"], buffers)
                if not isinstance(exc, BaseException):
                    raise RemoteError("a malformed error on the channel")
                raise exc
            raise RemoteError("a malformed reply on the channel")

    def _next_message(self) -> tuple[dict, list[bytes]]:
        if self.trusted:
            return self._recv()
        # The submission's side: whichever waiting thread holds the read lock reads the channel and hands
        # messages for other threads to their queues (no thread switch when only one thread talks).
        token = self._thread_token()
        q = self._queue(token)
        while True:
            try:
                item = q.get_nowait()
            except queue.Empty:
                item = None
            if item is None and self._read_lock.acquire(timeout=0.002):
                try:
                    try:
                        item = q.get_nowait()
                    except queue.Empty:
                        try:
                            header, buffers = self._recv()
                        except BaseException as exc:  # noqa: BLE001 - the grader is gone: wake every waiter
                            for other in list(self._queues.values()):
                                other.put(exc)
                            raise
                        dest = str(header.get("tt", "main"))
                        if dest == token:
                            return header, buffers
                        self._queue(dest).put((header, buffers))
                finally:
                    self._read_lock.release()
            if item is not None:
                if isinstance(item, BaseException):
                    raise item
                return item

    def _queue(self, token: str) -> queue.Queue:
        return self._queues.setdefault(token, queue.Queue())

    def serve_forever(self) -> None:
        """The submission's side: run the trusted side's requests in the main thread until it hangs up."""
        while True:
            try:
                header, buffers = self._next_message()
            except SubmissionDied:
                return
            if header.get("k") == "req":
                self._serve(header, buffers)

    def _serve(self, header: dict, buffers: list[bytes]) -> None:
        call_id = header.get("id")
        if self.trusted:
            stack = getattr(self._local, "serving", None)
            if stack is None:
                stack = self._local.serving = []
            stack.append(str(header.get("tt", "main")))
        try:
            result, back = self._perform(header, buffers)
            out: list[bytes] = []
            reply = {"k": "ok", "id": call_id, "v": self.encode(result, out), "tt": header.get("tt", "main")}
            if back:
                reply["back"] = [[key, self.encode(value, out)] for key, value in back]
        except SubmissionDied:
            raise
        except BaseException as exc:  # noqa: BLE001 - any failure goes back as the caller's exception
            back = []
            if isinstance(exc, _Failed):
                exc, back = exc.exc, exc.back
            if isinstance(exc, (KeyboardInterrupt,)) and self.trusted:
                raise
            out = []
            try:
                encoded = self.encode(exc, out)
                changed = [[key, self.encode(value, out)] for key, value in back]
            except BaseException as inner:  # noqa: BLE001
                out, changed = [], []
                encoded = self.encode(RemoteError(f"{type(exc).__name__} that could not be sent: {inner}"), out)
            reply = {"k": "err", "id": call_id, "e": encoded, "tt": header.get("tt", "main")}
            if changed:
                reply["back"] = changed
        finally:
            if self.trusted:
                self._local.serving.pop()
        self._send(reply, out)

    def _perform(self, header: dict, buffers: list[bytes]) -> Any:
        op = header.get("op")
        if op not in OPS:
            raise RemoteError(f"an unknown operation {op!r}")
        try:
            obj = self.objects[int(header["h"])]
        except (KeyError, TypeError, ValueError):
            raise RemoteError("a handle that does not exist (released, or never given)") from None
        args = self.decode(header.get("args", ["t", []]), buffers)
        kwargs = self.decode(header.get("kwargs", ["d", []]), buffers)
        if not isinstance(args, tuple) or not isinstance(kwargs, dict):
            raise RemoteError("malformed arguments")
        name = header.get("name")
        if op in ("call", "callmethod"):
            # Arguments are copies: what the callee changes in a list, dict, set or array it was given goes
            # back to the caller's own object with the reply.
            mutable = [(k, v) for k, v in [*enumerate(args), *kwargs.items()] if _mutable(v)]
            before = [_fingerprint(self, v) for _, v in mutable]
            try:
                if op == "call":
                    if self.trusted and isinstance(obj, type):
                        raise NotAllowed("a class of the grader cannot be called by the submission")
                    result = obj(*args, **kwargs)
                else:
                    result = self._getattr(obj, name)(*args, **kwargs)
            except BaseException as exc:  # what it changed before it raised goes back too
                raise _Failed(exc, [(k, v) for (k, v), fp in zip(mutable, before) if _fingerprint(self, v) != fp])
            back = [(k, v) for (k, v), fp in zip(mutable, before) if _fingerprint(self, v) != fp]
            return result, back
        return self._perform_other(op, obj, name, args), None

    def _perform_other(self, op: str, obj: Any, name: Any, args: tuple) -> Any:
        if op == "getattr":
            return self._getattr(obj, name)
        if op == "setattr":
            self._check_name(name)
            setattr(obj, name, args[0])
            return None
        if op == "iter":
            return iter(obj)
        if op == "next":
            return next(obj)
        if op == "len":
            return len(obj)
        if op == "getitem":
            return obj[args[0]]
        if op == "setitem":
            obj[args[0]] = args[1]
            return None
        if op == "contains":
            return args[0] in obj
        if op == "repr":
            return repr(obj)[:10000]
        if op == "str":
            return str(obj)[:100000]
        if op == "bool":
            return bool(obj)
        if op == "enter":
            return obj.__enter__()
        if op == "exit":
            return bool(obj.__exit__(*args))
        raise RemoteError(f"an unknown operation {op!r}")

    def _check_name(self, name: Any) -> None:
        if not isinstance(name, str) or (self.trusted and name.startswith("_")):
            raise NotAllowed(f"the submission may not reach {name!r} of a grader's object")

    def _getattr(self, obj: Any, name: Any) -> Any:
        self._check_name(name)
        value = getattr(obj, name)
        if self.trusted and (isinstance(value, types.ModuleType)
                             or (isinstance(value, type) and not issubclass(value, BaseException)
                                 and not dataclasses.is_dataclass(value))):
            raise NotAllowed(f"{name} is a module or a class of the grader: not available to the submission")
        return value


class _Failed(Exception):
    """A call raised ``exc`` after changing some of its arguments (``back``)."""

    def __init__(self, exc: BaseException, back: list):
        self.exc, self.back = exc, back


_MUTABLE = (list, dict, set, bytearray)


def _mutable(value: Any) -> bool:
    np = _numpy()
    return type(value) in _MUTABLE or (np is not None and type(value) is np.ndarray)


def _fingerprint(channel: Channel, value: Any) -> bytes:
    """The encoded form of a value: equal before and after a call when the call did not change it."""
    buffers: list[bytes] = []
    try:
        head = json.dumps(channel.encode(value, buffers)).encode()
    except RemoteError:
        return b""
    return head + b"".join(buffers)


def _copy_into(original: Any, new: Any) -> None:
    """Put what the other side made of an argument into the caller's own object."""
    np = _numpy()
    if type(original) is list and type(new) is list or type(original) is bytearray and type(new) is bytearray:
        original[:] = new
    elif type(original) is dict and type(new) is dict or type(original) is set and type(new) is set:
        original.clear()
        original.update(new)
    elif np is not None and type(original) is np.ndarray and type(new) is np.ndarray:
        if original.shape == new.shape and original.flags.writeable:
            original[...] = new


def _numpy():
    try:
        import numpy
    except ImportError:  # pragma: no cover - numpy is a dependency of the course
        return None
    return numpy


def _is_pydantic(value: Any) -> bool:
    return _is_pydantic_class(type(value))


def _is_pydantic_class(cls: type) -> bool:
    return any(c.__module__.startswith("pydantic") and c.__name__ == "BaseModel" for c in cls.__mro__)


_ANNOTATION_ORIGINS = {"list": list, "dict": dict, "tuple": tuple, "set": set, "frozenset": frozenset,
                       "type": type}


def _is_annotation(value: Any) -> bool:
    return isinstance(value, (types.GenericAlias, types.UnionType)) or type(value).__module__ == "typing"


def _annotation_name(value: Any) -> str:
    origin = typing.get_origin(value)
    if origin is typing.Literal:
        return "Literal"
    if origin in (typing.Union, types.UnionType):
        return "Union"
    if origin is not None and getattr(origin, "__module__", "") == "builtins":
        return origin.__name__
    if value is typing.Any:
        return "Any"
    if origin is not None and getattr(origin, "__module__", "").startswith("collections.abc"):
        return "abc." + origin.__name__
    if origin is typing.Annotated:
        return "Annotated"
    raise RemoteError(f"the annotation {value!r} cannot be sent")


def _make_annotation(name: str, args: list) -> Any:
    if name == "Literal":
        return typing.Literal[tuple(args)] if args else typing.Literal
    if name == "Union":
        return typing.Union[tuple(args)]
    if name == "Any":
        return typing.Any
    if name == "Annotated":
        return typing.Annotated[tuple(args)]
    if name.startswith("abc."):
        import collections.abc as abc

        origin = getattr(abc, name[4:])
        return origin[tuple(args)] if args else origin
    if name in _ANNOTATION_ORIGINS:
        origin = _ANNOTATION_ORIGINS[name]
        return origin[tuple(args)] if len(args) > 1 else (origin[args[0]] if args else origin)
    raise RemoteError(f"an unknown annotation {name!r}")


class Remote:
    """An object that lives on the other side: attribute reads, calls and iteration go there.

    Comparison is by identity: a submission's ``__eq__`` never decides a test.
    """

    __slots__ = ("_channel", "_handle", "_kind", "_methods", "__weakref__")

    def __init__(self, channel: Channel, handle: int, kind: str):
        object.__setattr__(self, "_channel", channel)
        object.__setattr__(self, "_handle", handle)
        object.__setattr__(self, "_kind", kind)
        object.__setattr__(self, "_methods", {})

    def _ask(self, op: str, name: str | None = None, *args, **kwargs) -> Any:
        return self._channel.request(op, self._handle, name, args, kwargs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        method = self._methods.get(name)
        if method is not None:
            return method
        value = self._ask("getattr", name)
        if isinstance(value, RemoteMethod) and value._handle == self._handle:
            self._methods[name] = value  # a method is looked up once; each call is then one round trip
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        self._methods.pop(name, None)
        self._ask("setattr", name, value)

    def __call__(self, *args, **kwargs) -> Any:
        return self._channel.request("call", self._handle, None, args, kwargs)

    def __iter__(self):
        it = self._ask("iter")
        return it if isinstance(it, Remote) else iter(it)

    def __next__(self) -> Any:
        return self._ask("next")

    def __len__(self) -> int:
        n = self._ask("len")
        if type(n) is not int:
            raise TypeError("len() of a submission's object must be an int")
        return n

    def __getitem__(self, key: Any) -> Any:
        return self._ask("getitem", None, key)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._ask("setitem", None, key, value)

    def __contains__(self, item: Any) -> bool:
        return self._ask("contains", None, item) is True

    def __bool__(self) -> bool:
        return self._ask("bool") is True

    def __enter__(self) -> Any:
        return self._ask("enter")

    def __exit__(self, *exc) -> bool:
        return self._ask("exit", None, *(None if e is None else (e if isinstance(e, BaseException) else None)
                                         for e in exc)) is True

    def __repr__(self) -> str:
        try:
            text = self._ask("repr")
        except RemoteError:
            text = None
        return text if type(text) is str else f"<{self._kind} of the submission>"

    def __str__(self) -> str:
        text = self._ask("str")
        return text if type(text) is str else repr(self)

    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)


class RemoteMethod:
    """A method of an object on the other side: a call is one round trip (look-up and call together)."""

    __slots__ = ("_channel", "_handle", "_name", "__weakref__")

    def __init__(self, channel: Channel, handle: int, name: str):
        self._channel, self._handle, self._name = channel, handle, name

    def __call__(self, *args, **kwargs) -> Any:
        return self._channel.request("callmethod", self._handle, self._name, args, kwargs)

    def __repr__(self) -> str:
        return f"<method {self._name} of the other side>"

    @property
    def __name__(self) -> str:  # noqa: PLW3201 - read by tools that name callables
        return self._name
