#!/usr/bin/env python3
"""docs/openapi.yaml is what marketplace clients generate their code from: it must be a valid
OpenAPI document. Prints each error with its place; exits 1 when there is any (`make test`)."""
import sys
from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator
from openapi_spec_validator.readers import read_from_filename
spec, _ = read_from_filename(sys.argv[1])
v = (OpenAPIV31SpecValidator if str(spec.get("openapi","")).startswith("3.1") else OpenAPIV30SpecValidator)(spec)
errs = list(v.iter_errors())
for e in errs:
    print("-", "/".join(map(str, e.absolute_path)), ":", e.message[:200])
print(f"{sys.argv[1]}: {len(errs)} OpenAPI errors")
sys.exit(1 if errs else 0)
