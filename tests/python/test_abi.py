"""The structs the package declares to cffi against the C headers' layout (abi_layout, built
from the same headers): every declared field at the C offset, and every struct the library
writes into (results, steps, errors, the plugin table) of the C size. A versioned options
struct may be declared at an older version, as a prefix of the C struct, when the package
passes that version (the library then reads and writes only that version's fields)."""
import json
import os
import subprocess

from fewshot import _lib
from util import check, finish

ffi = _lib.ffi
prog = os.path.join(os.environ["FEWSHOT_BUILDDIR"], "tests", "python", "abi_layout")
c = json.loads(subprocess.run([prog], check=True, capture_output=True, text=True).stdout)
versions = c.pop("versions")

declared = {name for name in ffi.list_types()[0]
            if ffi.typeof(name).kind == "struct" and ffi.typeof(name).fields is not None}
check(declared == set(c), "the same structs on both sides: only in cffi %s, only in C %s" %
      (sorted(declared - set(c)), sorted(set(c) - declared)))

# options structs passed with an explicit version: the package's version and the C one
older = {"fewshot_agent_options": _lib.AGENT_OPTIONS_VERSION,
         "fewshot_sweep_options": _lib.SWEEP_OPTIONS_VERSION,
         "fewshot_report_options": _lib.REPORT_OPTIONS_VERSION}
check(_lib.PLUGIN_ABI == versions["plugin_abi"], "plugin ABI %d, C %d" %
      (_lib.PLUGIN_ABI, versions["plugin_abi"]))

for name in sorted(declared & set(c)):
    t = ffi.typeof(name)
    fields = [f for f, _ in t.fields]
    for f in fields:
        check(f in c[name]["fields"], "%s.%s is not in the C struct" % (name, f))
        if f in c[name]["fields"]:
            check(ffi.offsetof(name, f) == c[name]["fields"][f],
                  "%s.%s at offset %d, in C at %d" % (name, f, ffi.offsetof(name, f),
                                                     c[name]["fields"][f]))
    size, csize = ffi.sizeof(name), c[name]["size"]
    if name in older and older[name] < versions[name]:
        # a prefix: the package's fields are the C struct's first ones
        check(fields == list(c[name]["fields"])[:len(fields)] and size <= csize,
              "%s (version %d) is a prefix of C's version %d" % (name, older[name],
                                                                versions[name]))
    else:
        check(name not in older or older[name] == versions[name],
              "%s: package version %s, C %s" % (name, older.get(name), versions.get(name)))
        check(size == csize, "%s: %d bytes in cffi, %d in C" % (name, size, csize))
        check(fields == list(c[name]["fields"]), "%s: fields %s, in C %s" %
              (name, fields, list(c[name]["fields"])))
finish()
