"""Make the reference-layout surface fixtures in Tests/Fixtures/surfaces/.

Both files are written the way the reference loss-landscape code (Li et al.,
2018; plot_surface.py) writes a 2D surface: a `dir_file` string dataset,
`xcoordinates` [nx] and `ycoordinates` [ny] (float64), and `train_loss` and
`train_acc` allocated as [nx, ny] filled with -1, whose cells are then set
through `ravel()` at the flat indices of `np.meshgrid(x, y)`, i.e. in [ny, nx]
order whatever the declared shape.

  reference-square.h5     x = [-1, 0, 1], y = [0, 0.5, 1] (nx = ny = 3).
                          train_loss = 3 + x + 10 y, train_acc = 100 -
                          train_loss at every cell except flat index 5
                          (x = 1, y = 0.5), which stays -1 as if the run had
                          stopped there. Because the grid is square, the
                          file reads correctly as [ny, nx].
  reference-nonsquare.h5  x = [-1, -0.5, 0, 0.5] (nx = 4), y = [0, 0.5, 1]
                          (ny = 3), same formulas, every cell computed; the
                          datasets have shape [4, 3] = [nx, ny], which a
                          reader of the [ny, nx] layout must refuse.
  no-coordinates.h5       only a `train_loss` [3, 3] of zeros: an HDF5 file
                          that is not a surface, for the missing-
                          `xcoordinates` error.

The files use the HDF5 1.8 object formats (libver "v108") so that older HDF5
libraries read them. Rerun with

    python3 Tests/Fixtures/make_surface_fixtures.py

(needs numpy and h5py); the values come out the same every time.
"""

import os

import h5py
import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "surfaces")


def write_reference_surface(path, x, y, skipped=()):
    shape = (len(x), len(y))  # the reference code's allocation, [nx, ny]
    losses = -np.ones(shape)
    accuracies = -np.ones(shape)
    xmesh, ymesh = np.meshgrid(x, y)
    for index in range(losses.size):
        if index in skipped:
            continue
        loss = 3 + xmesh.ravel()[index] + 10 * ymesh.ravel()[index]
        losses.ravel()[index] = loss
        accuracies.ravel()[index] = 100 - loss
    with h5py.File(path, "w", libver=("earliest", "v108")) as f:
        f["dir_file"] = "directions.h5"
        f["xcoordinates"] = np.asarray(x, dtype=np.float64)
        f["ycoordinates"] = np.asarray(y, dtype=np.float64)
        f["train_loss"] = losses
        f["train_acc"] = accuracies


def main():
    os.makedirs(OUT, exist_ok=True)
    write_reference_surface(os.path.join(OUT, "reference-square.h5"), [-1.0, 0.0, 1.0], [0.0, 0.5, 1.0], skipped={5})
    write_reference_surface(os.path.join(OUT, "reference-nonsquare.h5"), [-1.0, -0.5, 0.0, 0.5], [0.0, 0.5, 1.0])
    with h5py.File(os.path.join(OUT, "no-coordinates.h5"), "w", libver=("earliest", "v108")) as f:
        f["train_loss"] = np.zeros((3, 3))
    for name in sorted(os.listdir(OUT)):
        with h5py.File(os.path.join(OUT, name), "r") as f:
            print(name, {key: f[key].shape for key in f})


if __name__ == "__main__":
    main()
