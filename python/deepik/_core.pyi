# Type stubs of deepik._core (the pybind11 module in python/core_module.cpp), for editors and type
# checkers. Units: m and rad; frames: the tip T in the arm's base frame B; quaternions w first.
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np
import numpy.typing as npt

ArrayLike = npt.ArrayLike
Float64Array = npt.NDArray[np.float64]

class InputError(ValueError):
    """Bad input (an unknown name, a bad file, ...), with the command line's message."""

class Arm:
    """A serial chain of revolute (rad) and prismatic (m) joints from base frame B to tip T."""

    def __init__(self, arm: str, base: str = "", tip: str = "") -> None: ...
    @property
    def name(self) -> str: ...
    @property
    def dof(self) -> int: ...
    @property
    def reach(self) -> float:
        """Upper bound of the distance base -> tip (m)."""
    @property
    def joint_names(self) -> List[str]: ...
    @property
    def lower(self) -> Float64Array:
        """Lower joint limits, shape (dof,), rad or m."""
    @property
    def upper(self) -> Float64Array:
        """Upper joint limits, shape (dof,), rad or m."""
    @property
    def joints(self) -> List[Dict[str, Any]]: ...
    def fk(self, q: ArrayLike) -> Float64Array:
        """q (n, dof) or (dof,) rad or m -> tip poses (n, 7) or (7,) [x, y, z, qw, qx, qy, qz]
        (m; unit quaternion, qw >= 0; base frame)."""

class Model:
    """A trained model file (safetensors)."""

    def __init__(self, path: str) -> None: ...
    @property
    def arm(self) -> Arm: ...
    @property
    def network(self) -> Dict[str, Any]: ...
    def metadata(self, key: str) -> str: ...
    def export_onnx(self, path: str) -> None:
        """ONNX graph: input 'targets' float32 (batch, 3) m for a position model, (batch, 9) for a
        pose model (position, then the first two columns of R_BT) -> output 'joints' float32 (batch, dof).

        Raises InputError when path is the model's own file (directly or through a link)."""

class SolveResults:
    """One row per target: q (n, dof) rad or m; reached (n, 3) m; reached_quat (n, 4) [qw, qx, qy, qz];
    error (n,) m; angle_error (n,) rad (NaN for positions); status (n,) str; iterations (n,) int32.
    Scalars and 1-D rows for a single (3,) or (7,) target."""

    q: Float64Array
    reached: Float64Array
    reached_quat: Float64Array
    error: Union[Float64Array, float]
    angle_error: Union[Float64Array, float]
    status: Union[npt.NDArray[np.str_], str]
    iterations: Union[npt.NDArray[np.int32], int]

class Solver:
    """An IK solver by name (solver_names()): tip targets in the base frame -> joint values."""

    def __init__(
        self,
        model_or_arm: Union[Model, Arm],
        name: Optional[str] = None,
        timeout: float = 0.005,
        position_tolerance: float = 1e-9,
        angle_tolerance: float = 1e-9,
    ) -> None: ...
    @property
    def name(self) -> str: ...
    @property
    def arm(self) -> Arm: ...
    def solve(
        self,
        targets: ArrayLike,
        threads: int = 1,
        bounds: Union[None, str, Sequence[float], ArrayLike] = None,
    ) -> SolveResults:
        """targets (n, 3) positions in m or (n, 7) poses [x, y, z, qw, qx, qy, qz], base frame."""

def solver_names() -> List[str]: ...
def make_dataset(
    arm: Arm,
    output: str,
    sampler: str = "workspace",
    count: int = 100000,
    step: float = 10.0,
    step_m: float = 0.05,
    margin: float = 0.2,
    data_seed: int = 1,
    train_fraction: float = 0.8,
    validation_fraction: float = 0.1,
) -> Dict[str, Union[int, float]]: ...
