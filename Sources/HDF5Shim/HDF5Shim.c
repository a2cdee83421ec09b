#include "HDF5Shim.h"

hid_t landscape_h5p_default(void) { return H5P_DEFAULT; }
hid_t landscape_h5s_all(void) { return H5S_ALL; }
hid_t landscape_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }
hid_t landscape_h5t_ieee_f64le(void) { return H5T_IEEE_F64LE; }
hid_t landscape_h5t_c_s1(void) { return H5T_C_S1; }
size_t landscape_h5t_variable(void) { return H5T_VARIABLE; }
unsigned landscape_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
unsigned landscape_h5f_acc_rdwr(void) { return H5F_ACC_RDWR; }
unsigned landscape_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }
void landscape_h5e_silence(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

hid_t landscape_h5p_file_access_unlocked(void) {
    hid_t list = H5Pcreate(H5P_FILE_ACCESS);
    if (list >= 0) H5Pset_file_locking(list, 0, 1);
    return list;
}
