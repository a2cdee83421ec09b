import Foundation
import HDF5Shim
import LandscapeCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A loss-surface file (HDF5) open for reading and writing, in the layout of the reference
/// loss-landscape code (Li et al., "Visualizing the Loss Landscape of Neural Nets", NeurIPS 2018),
/// so its plotting scripts read our surfaces and we read theirs.
///
/// The file holds `xcoordinates` [nx] and `ycoordinates` [ny] (absent for a 1D surface), both
/// float64, and one float64 dataset per quantity (`train_loss`, `train_acc`, `test_loss`,
/// `test_acc`) shaped [ny, nx], or [nx] for 1D: element [j, i] is the value at (x[i], y[j]), the
/// order of `meshgrid(x, y)`. A cell not computed yet holds -1, so a stopped run resumes by
/// computing ``missingCells()``. Metadata are string attributes on the root group.
///
/// Crash safety: ``create(at:x:y:quantities:attributes:replacing:)`` builds the file under a
/// temporary name and renames it into place, and every ``write(i:j:_:)`` flushes HDF5's buffers to
/// the operating system, so a killed run loses at most the cell it was writing. (There is no fsync
/// per cell: that would cost milliseconds each and protects only against losing power.)
///
/// The reference code allocates its 2D grids as [nx, ny] but fills them in meshgrid order, so its
/// square files read as ours; a reference file with nx != ny is refused with an error rather than
/// reinterpreted. String datasets (the reference stores its `dir_file` that way) are metadata and
/// are skipped; every other dataset besides the coordinates is a quantity and must fit the grid.
///
/// The datasets stay open while the instance lives, so a write only selects one element; ``close()``
/// or deinit releases them. HDF5's file locking is off, so another process (h5py, say) can read a
/// surface while a run writes it.
public final class SurfaceFile {
    /// The file's location.
    public let url: URL
    /// The step sizes along the first direction (`xcoordinates`).
    public let x: [Double]
    /// The step sizes along the second direction (`ycoordinates`); nil for a 1D surface.
    public let y: [Double]?
    /// Names of the value datasets present, in name order, e.g. `["train_acc", "train_loss"]`.
    public private(set) var quantities: [String]

    /// The grid size; `ny` is 1 for a 1D surface.
    public var shape: (ny: Int, nx: Int) { (y?.count ?? 1, x.count) }

    private let isWritable: Bool
    /// The HDF5 file identifier, or -1 once closed.
    private var fileID: hid_t
    /// Each quantity's dataset with its file dataspace, on which a write selects its one element.
    private var datasets: [String: (dataset: hid_t, space: hid_t)] = [:]
    /// A one-element memory dataspace: the source of every single-cell write.
    private let cellSpace: hid_t

    private static let coordinateNames: Set<String> = ["xcoordinates", "ycoordinates"]

    private init(url: URL, fileID: hid_t, x: [Double], y: [Double]?, writable: Bool) {
        self.url = url
        self.fileID = fileID
        self.x = x
        self.y = y
        isWritable = writable
        quantities = []
        var one: hsize_t = 1
        cellSpace = H5Screate_simple(1, &one, nil)
    }

    deinit { close() }

    /// Creates a new file with every cell of every quantity -1 and `attributes` as string attributes
    /// on the root group, and returns it open for writing.
    ///
    /// The file is written under a temporary name in the same directory and renamed into place, so
    /// `url` never holds a half-made file, and with `replacing` an existing file stays intact until
    /// the new one is complete. Without `replacing`, an existing file is an error.
    public static func create(
        at url: URL, x: [Double], y: [Double]?, quantities: [String], attributes: [String: String], replacing: Bool = false
    ) throws(FileError) -> SurfaceFile {
        precondition(!x.isEmpty && y?.isEmpty != true, "SurfaceFile.create: empty coordinates")
        precondition(Set(quantities).count == quantities.count, "SurfaceFile.create: duplicate quantities \(quantities)")
        precondition(
            quantities.allSatisfy { !$0.isEmpty && $0 != "." && !$0.contains("/") && !coordinateNames.contains($0) },
            "SurfaceFile.create: quantity names must be plain dataset names other than the coordinates: \(quantities)")
        let path = url.path
        if !replacing && FileManager.default.fileExists(atPath: path) {
            throw FileError(file: path, problem: "already exists; not replacing it")
        }
        landscape_h5e_silence()
        // Same directory, because rename(2) is atomic only within one file system.
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp").path
        let access = landscape_h5p_file_access_unlocked()
        defer { H5Pclose(access) }
        let file = H5Fcreate(temporary, landscape_h5f_acc_trunc(), landscape_h5p_default(), access)
        guard file >= 0 else {
            throw FileError(file: path, problem: "cannot create a temporary file in \(url.deletingLastPathComponent().path)")
        }
        let problem = populate(file, x: x, y: y, quantities: quantities, attributes: attributes)
        let closed = H5Fclose(file) >= 0
        if let problem {
            unlink(temporary)
            throw FileError(file: path, problem: problem)
        }
        guard closed else {
            unlink(temporary)
            throw FileError(file: path, problem: "cannot finish writing the temporary file")
        }
        guard rename(temporary, path) == 0 else {
            let problem = "cannot rename the temporary file into place: \(String(cString: strerror(errno)))"
            unlink(temporary)
            throw FileError(file: path, problem: problem)
        }
        return try open(url, writable: true)
    }

    /// Opens an existing file for reading, and for writing with `writable`, and checks it against the
    /// layout: float64 vectors `xcoordinates` (required) and `ycoordinates`, and every quantity float64
    /// of shape [ny, nx] (or [nx] without `ycoordinates`).
    public static func open(_ url: URL, writable: Bool = false) throws(FileError) -> SurfaceFile {
        let path = url.path
        func fail(_ problem: String) -> FileError { FileError(file: path, problem: problem) }
        guard FileManager.default.fileExists(atPath: path) else { throw fail("no such file") }
        landscape_h5e_silence()
        let signature = H5Fis_hdf5(path)
        guard signature >= 0 else { throw fail("cannot read the file") }
        guard signature > 0 else { throw fail("not an HDF5 file") }
        let mode = writable ? landscape_h5f_acc_rdwr() : landscape_h5f_acc_rdonly()
        let access = landscape_h5p_file_access_unlocked()
        defer { H5Pclose(access) }
        let fileID = H5Fopen(path, mode, access)
        guard fileID >= 0 else {
            throw fail("HDF5 cannot open it for \(writable ? "writing" : "reading") (is it open for writing elsewhere?)")
        }

        let x: [Double], y: [Double]?
        do throws(FileError) {
            guard H5Lexists(fileID, "xcoordinates", landscape_h5p_default()) > 0 else {
                throw fail("missing dataset xcoordinates (not a loss-surface file)")
            }
            x = try readCoordinates("xcoordinates", in: fileID, fail: fail)
            if H5Lexists(fileID, "ycoordinates", landscape_h5p_default()) > 0 {
                y = try readCoordinates("ycoordinates", in: fileID, fail: fail)
            } else {
                y = nil
            }
        } catch {
            H5Fclose(fileID)
            throw error
        }

        // From here the instance owns the file, so an error below releases it through deinit.
        let surface = SurfaceFile(url: url, fileID: fileID, x: x, y: y, writable: writable)
        guard surface.cellSpace >= 0, let names = linkNames(in: fileID) else { throw fail("cannot list the datasets") }
        for name in names where !coordinateNames.contains(name) {
            let object = H5Oopen(fileID, name, landscape_h5p_default())
            guard object >= 0 else { throw fail("cannot open object \(name)") }
            var isKept = false
            defer { if !isKept { H5Oclose(object) } }
            guard H5Iget_type(object) == H5I_DATASET else { continue }
            guard let layout = DatasetLayout(object) else { throw fail("cannot read the type and shape of dataset \(name)") }
            // String datasets are metadata, such as the reference code's `dir_file`.
            guard layout.typeClass != H5T_STRING else { continue }
            let space = H5Dget_space(object)
            guard space >= 0 else { throw fail("cannot read the dataspace of dataset \(name)") }
            isKept = true
            surface.datasets[name] = (object, space)
            surface.quantities.append(name)
            try surface.check(name, layout)
        }
        return surface
    }

    /// The root group's string attributes. Attributes of other types or shapes are not part of the
    /// contract and are left out.
    public func attributes() throws(FileError) -> [String: String] {
        precondition(fileID >= 0, "SurfaceFile.attributes: \(url.path) is closed")
        landscape_h5e_silence()
        var names: [String] = []
        let listed = withUnsafeMutablePointer(to: &names) { names in
            H5Aiterate2(fileID, H5_INDEX_NAME, H5_ITER_INC, nil, { _, name, _, names in
                names!.assumingMemoryBound(to: [String].self).pointee.append(String(cString: name!))
                return 0
            }, names)
        }
        guard listed >= 0 else { throw failure("cannot list the attributes") }
        var attributes: [String: String] = [:]
        for name in names {
            if let value = try stringAttribute(name) { attributes[name] = value }
        }
        return attributes
    }

    /// All values of `quantity`, row-major [ny][nx] flattened: the value at (x[i], y[j]) is at
    /// index `j * nx + i`.
    public func values(_ quantity: String) throws(FileError) -> [Double] {
        precondition(fileID >= 0, "SurfaceFile.values: \(url.path) is closed")
        landscape_h5e_silence()
        guard let (dataset, _) = datasets[quantity] else { throw unknownQuantity(quantity) }
        var values = [Double](repeating: 0, count: shape.nx * shape.ny)
        let status = values.withUnsafeMutableBytes { buffer in
            H5Dread(dataset, landscape_h5t_native_double(), landscape_h5s_all(), landscape_h5s_all(), landscape_h5p_default(),
                    buffer.baseAddress)
        }
        guard status >= 0 else { throw failure("cannot read dataset \(quantity)") }
        return values
    }

    /// Writes the cell at (x[i], y[j]) of each quantity in `values` and flushes the file, so the
    /// cell survives the process being killed right after. For a 1D surface `j` is 0.
    public func write(i: Int, j: Int, _ values: [String: Double]) throws(FileError) {
        precondition(fileID >= 0, "SurfaceFile.write: \(url.path) is closed")
        precondition(isWritable, "SurfaceFile.write: \(url.path) is open for reading only")
        precondition((0..<shape.nx).contains(i) && (0..<shape.ny).contains(j),
                     "SurfaceFile.write: cell (\(i), \(j)) outside the \(shape.nx) x \(shape.ny) grid")
        landscape_h5e_silence()
        // All names are checked before anything is written, so a typo leaves the cell untouched.
        for name in values.keys where datasets[name] == nil { throw unknownQuantity(name) }
        var start: [hsize_t] = y == nil ? [hsize_t(i)] : [hsize_t(j), hsize_t(i)]
        var count = [hsize_t](repeating: 1, count: start.count)
        for (name, value) in values {
            let (dataset, space) = datasets[name]!
            var value = value
            guard H5Sselect_hyperslab(space, H5S_SELECT_SET, &start, nil, &count, nil) >= 0,
                  H5Dwrite(dataset, landscape_h5t_native_double(), cellSpace, space, landscape_h5p_default(), &value) >= 0
            else { throw failure("cannot write \(name) at cell (i \(i), j \(j))") }
        }
        guard H5Fflush(fileID, H5F_SCOPE_LOCAL) >= 0 else { throw failure("cannot flush the file") }
    }

    /// The cells (i, j) where any quantity still holds -1, in row-major order (j, then i): what a
    /// resumed run has left to compute.
    public func missingCells() throws(FileError) -> [(i: Int, j: Int)] {
        let nx = shape.nx
        var missing = [Bool](repeating: false, count: nx * shape.ny)
        for quantity in quantities {
            for (index, value) in try values(quantity).enumerated() where value == -1 { missing[index] = true }
        }
        return missing.indices.filter { missing[$0] }.map { (i: $0 % nx, j: $0 / nx) }
    }

    /// Releases the datasets and closes the file. Calling it again does nothing; deinit calls it.
    public func close() {
        guard fileID >= 0 else { return }
        for (dataset, space) in datasets.values {
            H5Sclose(space)
            H5Dclose(dataset)
        }
        datasets = [:]
        if cellSpace >= 0 { H5Sclose(cellSpace) }
        H5Fclose(fileID)
        fileID = -1
    }

    // MARK: - Checks

    /// Checks that quantity `name` is float64 with the grid's shape.
    private func check(_ name: String, _ layout: DatasetLayout) throws(FileError) {
        guard layout.isFloat64 else { throw failure("dataset \(name) holds \(layout.typeDescription), expected float64") }
        let (ny, nx) = shape
        let expected = y == nil ? [nx] : [ny, nx]
        guard layout.dims != expected else { return }
        if y != nil && layout.dims == [nx, ny] {
            throw failure("dataset \(name) has shape [\(nx), \(ny)], which is [nx, ny]: a non-square grid in the reference "
                          + "code's layout, whose cells do not follow that shape; expected [ny, nx] = [\(ny), \(nx)]")
        }
        let coordinates = y == nil ? "[nx] = [\(nx)] (no ycoordinates)" : "[ny, nx] = [\(ny), \(nx)]"
        throw failure("dataset \(name) has shape \(layout.dims), but the coordinates need \(coordinates)")
    }

    private func failure(_ problem: String) -> FileError { FileError(file: url.path, problem: problem) }

    private func unknownQuantity(_ name: String) -> FileError {
        failure("no quantity \(name) (the file has \(quantities.isEmpty ? "none" : quantities.joined(separator: ", ")))")
    }

    // MARK: - Reading

    /// A coordinate vector, checked to be a float64 vector.
    private static func readCoordinates(
        _ name: String, in fileID: hid_t, fail: (String) -> FileError
    ) throws(FileError) -> [Double] {
        let dataset = H5Dopen2(fileID, name, landscape_h5p_default())
        guard dataset >= 0 else { throw fail("cannot open dataset \(name)") }
        defer { H5Dclose(dataset) }
        guard let layout = DatasetLayout(dataset) else { throw fail("cannot read the type and shape of \(name)") }
        guard layout.isFloat64 else { throw fail("dataset \(name) holds \(layout.typeDescription), expected float64") }
        guard layout.dims.count == 1 else { throw fail("dataset \(name) has shape \(layout.dims), expected a vector") }
        var values = [Double](repeating: 0, count: layout.dims[0])
        let status = values.withUnsafeMutableBytes { buffer in
            H5Dread(dataset, landscape_h5t_native_double(), landscape_h5s_all(), landscape_h5s_all(), landscape_h5p_default(),
                    buffer.baseAddress)
        }
        guard status >= 0 else { throw fail("cannot read dataset \(name)") }
        return values
    }

    /// The names of the root group's links in name order, or nil if HDF5 cannot list them.
    private static func linkNames(in fileID: hid_t) -> [String]? {
        var info = H5G_info_t()
        guard H5Gget_info(fileID, &info) >= 0 else { return nil }
        var names: [String] = []
        for index in 0..<info.nlinks {
            let length = H5Lget_name_by_idx(fileID, ".", H5_INDEX_NAME, H5_ITER_INC, index, nil, 0, landscape_h5p_default())
            guard length >= 0 else { return nil }
            var name = [CChar](repeating: 0, count: length + 1)
            guard H5Lget_name_by_idx(fileID, ".", H5_INDEX_NAME, H5_ITER_INC, index, &name, name.count,
                                     landscape_h5p_default()) >= 0 else { return nil }
            names.append(decodeNulTerminated(name))
        }
        return names
    }

    /// The value of root attribute `name` if it is a scalar string, fixed or variable length;
    /// nil for any other attribute.
    private func stringAttribute(_ name: String) throws(FileError) -> String? {
        let attribute = H5Aopen(fileID, name, landscape_h5p_default())
        guard attribute >= 0 else { throw failure("cannot open attribute \(name)") }
        defer { H5Aclose(attribute) }
        let fileType = H5Aget_type(attribute), space = H5Aget_space(attribute)
        defer {
            if fileType >= 0 { H5Tclose(fileType) }
            if space >= 0 { H5Sclose(space) }
        }
        guard fileType >= 0, space >= 0 else { throw failure("cannot read the type of attribute \(name)") }
        guard H5Tget_class(fileType) == H5T_STRING, H5Sget_simple_extent_type(space) == H5S_SCALAR else { return nil }

        let isVariable = H5Tis_variable_str(fileType) > 0
        let fixedSize = H5Tget_size(fileType)
        let memoryType = H5Tcopy(landscape_h5t_c_s1())
        guard memoryType >= 0 else { throw failure("cannot read attribute \(name)") }
        defer { H5Tclose(memoryType) }
        // The memory type keeps the file's character set (HDF5 does not convert between them); a fixed
        // string gets one more byte so it arrives NUL-terminated whatever its padding in the file.
        guard H5Tset_size(memoryType, isVariable ? landscape_h5t_variable() : fixedSize + 1) >= 0,
              H5Tset_cset(memoryType, H5Tget_cset(fileType)) >= 0
        else { throw failure("cannot read attribute \(name)") }

        if isVariable {
            var characters: UnsafeMutablePointer<CChar>?
            guard H5Aread(attribute, memoryType, &characters) >= 0 else { throw failure("cannot read attribute \(name)") }
            defer { H5free_memory(characters) }
            return characters.map { String(cString: $0) } ?? ""
        }
        var characters = [CChar](repeating: 0, count: fixedSize + 1)
        guard H5Aread(attribute, memoryType, &characters) >= 0 else { throw failure("cannot read attribute \(name)") }
        return Self.decodeNulTerminated(characters)
    }

    /// The UTF-8 text before the first NUL.
    private static func decodeNulTerminated(_ characters: [CChar]) -> String {
        String(decoding: characters.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    // MARK: - Writing

    /// Writes the coordinates, the quantities filled with -1 and the attributes into a new file;
    /// returns what failed, or nil.
    private static func populate(
        _ fileID: hid_t, x: [Double], y: [Double]?, quantities: [String], attributes: [String: String]
    ) -> String? {
        guard writeDataset("xcoordinates", shape: [x.count], values: x, in: fileID) else { return "cannot write xcoordinates" }
        if let y, !writeDataset("ycoordinates", shape: [y.count], values: y, in: fileID) { return "cannot write ycoordinates" }
        let shape = y.map { [$0.count, x.count] } ?? [x.count]
        let uncomputed = [Double](repeating: -1, count: shape.reduce(1, *))
        for quantity in quantities where !writeDataset(quantity, shape: shape, values: uncomputed, in: fileID) {
            return "cannot write dataset \(quantity)"
        }
        for (name, value) in attributes.sorted(by: { $0.key < $1.key }) where !writeStringAttribute(name, value, in: fileID) {
            return "cannot write attribute \(name)"
        }
        return nil
    }

    /// Creates a little-endian float64 dataset (the type numpy writes) holding `values`.
    private static func writeDataset(_ name: String, shape: [Int], values: [Double], in fileID: hid_t) -> Bool {
        var extent = shape.map { hsize_t($0) }
        let space = H5Screate_simple(Int32(extent.count), &extent, nil)
        guard space >= 0 else { return false }
        defer { H5Sclose(space) }
        let dataset = H5Dcreate2(fileID, name, landscape_h5t_ieee_f64le(), space,
                                 landscape_h5p_default(), landscape_h5p_default(), landscape_h5p_default())
        guard dataset >= 0 else { return false }
        defer { H5Dclose(dataset) }
        return values.withUnsafeBytes { buffer in
            H5Dwrite(dataset, landscape_h5t_native_double(), landscape_h5s_all(), landscape_h5s_all(), landscape_h5p_default(),
                     buffer.baseAddress) >= 0
        }
    }

    /// Creates a scalar variable-length UTF-8 string attribute on the root group, which h5py reads as `str`.
    private static func writeStringAttribute(_ name: String, _ value: String, in fileID: hid_t) -> Bool {
        let type = H5Tcopy(landscape_h5t_c_s1())
        guard type >= 0 else { return false }
        defer { H5Tclose(type) }
        guard H5Tset_size(type, landscape_h5t_variable()) >= 0, H5Tset_cset(type, H5T_CSET_UTF8) >= 0 else { return false }
        let space = H5Screate(H5S_SCALAR)
        guard space >= 0 else { return false }
        defer { H5Sclose(space) }
        let attribute = H5Acreate2(fileID, name, type, space, landscape_h5p_default(), landscape_h5p_default())
        guard attribute >= 0 else { return false }
        defer { H5Aclose(attribute) }
        return value.withCString { characters in
            var pointer: UnsafePointer<CChar>? = characters
            return H5Awrite(attribute, type, &pointer) >= 0
        }
    }
}

/// The element type and extent of a dataset, for checking it against the layout.
private struct DatasetLayout {
    let typeClass: H5T_class_t
    let typeSize: Int
    let dims: [Int]

    /// Reads the layout of `dataset`, or nil if HDF5 cannot.
    init?(_ dataset: hid_t) {
        let type = H5Dget_type(dataset)
        guard type >= 0 else { return nil }
        defer { H5Tclose(type) }
        let space = H5Dget_space(dataset)
        guard space >= 0 else { return nil }
        defer { H5Sclose(space) }
        let rank = H5Sget_simple_extent_ndims(space)
        guard rank >= 0 else { return nil }
        var extent = [hsize_t](repeating: 0, count: Int(rank))
        guard H5Sget_simple_extent_dims(space, &extent, nil) >= 0 else { return nil }
        typeClass = H5Tget_class(type)
        typeSize = H5Tget_size(type)
        dims = extent.map { Int($0) }
    }

    /// Any byte order: HDF5 converts to the native one when reading.
    var isFloat64: Bool { typeClass == H5T_FLOAT && typeSize == 8 }

    /// The element type in words, for error messages: "4-byte integers".
    var typeDescription: String {
        let kind = switch typeClass {
        case H5T_INTEGER: "integers"
        case H5T_FLOAT: "floats"
        case H5T_STRING: "strings"
        default: "non-numeric data"
        }
        return "\(typeSize)-byte \(kind)"
    }
}
