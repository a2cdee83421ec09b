#ifndef LANDSCAPE_HDF5_SHIM_H
#define LANDSCAPE_HDF5_SHIM_H

#include <hdf5.h>

/* HDF5 spells these identifiers and flags as macros (most expand to library globals that only
   exist after H5open), which Swift cannot import; each function returns the macro's value. */

hid_t landscape_h5p_default(void);
hid_t landscape_h5s_all(void);
hid_t landscape_h5t_native_double(void);
hid_t landscape_h5t_ieee_f64le(void);
hid_t landscape_h5t_c_s1(void);
size_t landscape_h5t_variable(void);
unsigned landscape_h5f_acc_rdonly(void);
unsigned landscape_h5f_acc_rdwr(void);
unsigned landscape_h5f_acc_trunc(void);

/* Turns off HDF5's automatic printing of its error stack for the calling thread (the stack is
   per thread in a thread-safe build), so failures reach the caller only as return codes. */
void landscape_h5e_silence(void);

/* A new file-access property list with HDF5's file locking off (close it with H5Pclose). HDF5 locks
   with flock(), and a lock travels with the descriptor into any child process started while the
   file is open, which would keep the file locked after this process closes it; surfaces are also
   meant to be readable (by h5py, say) while a run writes them. */
hid_t landscape_h5p_file_access_unlocked(void);

#endif
