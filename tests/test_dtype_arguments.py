"""torch.result_type's four signatures (positional and by keyword), and dtype parameters given Python types
(``can_cast(float, torch.int32)``) or non-dtypes, compared with torch: the dtype, or the exception type and
the first line of its message."""

from __future__ import annotations

import numpy as np
import pytest

from tests.test_hardening import agree


def _operands(lib):
    return {"f32": lib.ones(2), "f64": lib.ones(2, dtype=lib.float64), "i8": lib.ones(2, dtype=lib.int8)}


CASES = {
    "result_type(tensor, tensor)": lambda lib, o: lib.result_type(o["f32"], o["f64"]),
    "result_type(number, tensor)": lambda lib, o: lib.result_type(1.5, o["i8"]),
    "result_type(tensor, number)": lambda lib, o: lib.result_type(o["i8"], True),
    "result_type(number, number)": lambda lib, o: lib.result_type(1, 2.0),
    "result_type(numpy number, tensor)": lambda lib, o: lib.result_type(np.float64(1), o["i8"]),
    "result_type(complex, int8)": lambda lib, o: lib.result_type(1j, o["i8"]),
    "result_type(tensor=, other=)": lambda lib, o: lib.result_type(tensor=o["f32"], other=1.0),
    "result_type(other=, tensor=)": lambda lib, o: lib.result_type(other=1, tensor=o["i8"]),
    "result_type(tensor, other=tensor)": lambda lib, o: lib.result_type(o["f32"], other=o["f64"]),
    "result_type(scalar1=, scalar2=)": lambda lib, o: lib.result_type(scalar1=1, scalar2=2.0),
    "result_type(scalar=, tensor=)": lambda lib, o: lib.result_type(scalar=1.5, tensor=o["i8"]),
    "result_type(tensor, list)": lambda lib, o: lib.result_type(o["f32"], [1]),
    "result_type(tensor, None)": lambda lib, o: lib.result_type(o["f32"], None),
    "result_type(tensor)": lambda lib, o: lib.result_type(o["f32"]),
    "result_type()": lambda lib, o: lib.result_type(),
    "result_type of three tensors": lambda lib, o: lib.result_type(o["f32"], o["f32"], o["f32"]),
    "result_type(tensor, scalar=)": lambda lib, o: lib.result_type(o["f32"], scalar=2),
    "can_cast(float, int32)": lambda lib, o: lib.can_cast(float, lib.int32),
    "can_cast(float32, float)": lambda lib, o: lib.can_cast(lib.float32, float),
    "can_cast(complex, float)": lambda lib, o: lib.can_cast(complex, float),
    "can_cast(bool, int)": lambda lib, o: lib.can_cast(bool, int),
    "can_cast(int, 3)": lambda lib, o: lib.can_cast(int, 3),
    "can_cast(3, int)": lambda lib, o: lib.can_cast(3, int),
    "can_cast(from_=, to=)": lambda lib, o: lib.can_cast(from_=lib.float32, to=lib.int32),
    "promote_types(float, int)": lambda lib, o: lib.promote_types(float, int),
    "promote_types(int, bool)": lambda lib, o: lib.promote_types(int, bool),
    "promote_types(float32, 3)": lambda lib, o: lib.promote_types(lib.float32, 3),
    "promote_types(3, float32)": lambda lib, o: lib.promote_types(3, lib.float32),
    "ones(dtype=float)": lambda lib, o: lib.ones(2, dtype=float).dtype,
    "ones(dtype='float')": lambda lib, o: lib.ones(2, dtype="float"),
}


@pytest.mark.parametrize("name", CASES)
def test_dtype_arguments_as_torch(name):
    agree(name, lambda lib: CASES[name](lib, _operands(lib)), [])
