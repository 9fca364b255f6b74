//! A fault-injecting SQLite storage layer (VFS) for durability tests.
//!
//! It wraps the platform's default VFS. Every call reaches the real file, so SQLite runs the
//! same code paths as in production. Alongside, for every main database, write-ahead log and
//! rollback journal it keeps what a disk would still hold after a power cut: the *durable*
//! content (everything up to the file's last successful sync) and the writes issued since
//! (*pending*, in issue order across files). From that a test can:
//!
//! - materialise a crash image at any moment ([`Disk::materialise`]): the durable content
//!   plus a seeded choice of the pending writes — a prefix kept, possibly some of it dropped
//!   (disks reorder unsynced writes), the write at the cut torn;
//! - make the n-th sync from now fail with `SQLITE_IOERR_FSYNC`, the error SQLite reports
//!   when `fsync` fails ([`Control::fail_sync`]);
//! - crash at an operation number: that operation and every later one fails, as when the
//!   process loses its disk ([`Control::crash_at`]).
//!
//! The shared-memory index (`-shm`) is passed through and never part of an image: a power
//! cut loses it, and SQLite rebuilds it from the log.

use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use libsqlite3_sys as ffi;

/// A write or truncation issued to a tracked file and not yet synced.
enum Op {
    Write { offset: u64, data: Vec<u8> },
    Truncate(u64),
}

struct Pending {
    file: String,
    op: Op,
}

/// Called before every write, truncation and sync of a tracked file with the operation's
/// number (from 1) and the disk as it stands before the operation. It runs inside the VFS
/// call with the layer locked: it must not use a connection on the same VFS. If it panics,
/// the layer crashes (see [`Control::crash_at`]).
pub type Hook = Box<dyn FnMut(u64, &Disk<'_>) + Send>;

#[derive(Default)]
struct State {
    durable: HashMap<String, Vec<u8>>,
    pending: Vec<Pending>,
    ops: u64,
    fail_sync_in: Option<u64>,
    failed_syncs: u64,
    crash_at: Option<u64>,
    crashed: bool,
    hook: Option<Hook>,
}

impl State {
    /// Counts an operation on a tracked file, crashes if its number is the crash point, and
    /// shows the disk to the hook. Returns false if the operation must fail.
    fn operate(&mut self) -> bool {
        if self.crashed {
            return false;
        }
        self.ops += 1;
        if self.crash_at.is_some_and(|at| self.ops >= at) {
            self.crashed = true;
            return false;
        }
        if let Some(mut hook) = self.hook.take() {
            // A panic must not unwind into SQLite's C frames: it becomes a crash of the
            // layer, which the test then sees as failed I/O.
            let op = self.ops;
            let disk = Disk { state: self };
            let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| hook(op, &disk)));
            if ran.is_err() {
                self.crashed = true;
                return false;
            }
            self.hook = Some(hook);
        }
        true
    }
}

/// The handle a test holds on one registered fault-injecting VFS.
#[derive(Default)]
pub struct Control {
    state: Mutex<State>,
}

impl Control {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panic in a hook poisons the lock; the test has failed already, keep the layer
        // usable so the failure is reported rather than a second panic.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Installs (or with `None` removes) the hook run before every tracked operation.
    pub fn set_hook(&self, hook: Option<Hook>) {
        self.state().hook = hook;
    }

    /// The `nth` sync of a tracked file from now (1 = the next one) fails with
    /// `SQLITE_IOERR_FSYNC` and does not reach the disk. Later syncs succeed again, as they
    /// can on Linux after a failed `fsync`: only the caller's fail-stop keeps it safe.
    pub fn fail_sync(&self, nth: u64) {
        self.state().fail_sync_in = Some(nth.max(1));
    }

    /// Operation number `op` (see [`Hook`]) and every operation after it fail, reads
    /// included: the process has lost its disk.
    pub fn crash_at(&self, op: u64) {
        self.state().crash_at = Some(op);
    }

    /// Forgets every file, fault and hook: the next test run starts on a fresh disk.
    pub fn reset(&self) {
        *self.state() = State::default();
    }

    /// Whether the layer has crashed.
    pub fn crashed(&self) -> bool {
        self.state().crashed
    }

    /// Tracked operations (writes, truncations, syncs) so far.
    pub fn ops(&self) -> u64 {
        self.state().ops
    }

    /// Syncs failed on purpose so far.
    pub fn failed_syncs(&self) -> u64 {
        self.state().failed_syncs
    }

    /// Materialises a crash image of the disk as it stands now (see [`Disk::materialise`]).
    pub fn materialise(&self, dir: &Path, seed: u64) -> std::io::Result<Image> {
        Disk {
            state: &self.state(),
        }
        .materialise(dir, seed)
    }
}

/// What a crash image kept of the pending writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Image {
    /// Writes and truncations pending when the image was taken.
    pub pending: usize,
    /// Pending operations applied whole.
    pub applied: usize,
    /// Pending operations before the cut that were dropped.
    pub dropped: usize,
    /// Whether the write at the cut was applied torn.
    pub torn: bool,
}

/// The disk as a power cut would find it: durable content and pending writes.
pub struct Disk<'a> {
    state: &'a State,
}

fn next(state: &mut u64) -> u64 {
    // xorshift64: seeded, reproducible, and enough for choosing cuts.
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

fn apply(content: &mut Vec<u8>, op: &Op, keep: Option<(usize, bool, &mut u64)>) {
    match op {
        Op::Truncate(size) => content.resize(usize::try_from(*size).unwrap_or(usize::MAX), 0),
        Op::Write { offset, data } => {
            let offset = usize::try_from(*offset).unwrap_or(usize::MAX);
            let end = offset.saturating_add(data.len());
            if content.len() < end {
                content.resize(end, 0);
            }
            match keep {
                None => content[offset..end].copy_from_slice(data),
                Some((kept, garbage, rng)) => {
                    content[offset..offset + kept].copy_from_slice(&data[..kept]);
                    if garbage {
                        for byte in &mut content[offset + kept..end] {
                            *byte = next(rng) as u8;
                        }
                    }
                }
            }
        }
    }
}

impl Disk<'_> {
    /// Writes and truncations issued since their file's last sync.
    pub fn pending(&self) -> usize {
        self.state.pending.len()
    }

    /// Writes every tracked file as a power cut now could leave it into `dir` (under its own
    /// file name), choosing with `seed`: pending operations up to a random cut are applied
    /// (with one chance in four, some of them dropped at random), the write at the cut is
    /// torn — a random prefix lands, the rest keeps its old bytes or turns to garbage — and
    /// everything after the cut is lost.
    pub fn materialise(&self, dir: &Path, seed: u64) -> std::io::Result<Image> {
        let mut rng = seed | 1;
        let mut files = self.state.durable.clone();
        let pending = &self.state.pending;
        let cut = (next(&mut rng) % (pending.len() as u64 + 1)) as usize;
        let reorder = next(&mut rng) % 4 == 0;
        let mut image = Image {
            pending: pending.len(),
            applied: 0,
            dropped: 0,
            torn: false,
        };
        for p in &pending[..cut] {
            if reorder && next(&mut rng) % 3 == 0 {
                image.dropped += 1;
                continue;
            }
            apply(files.entry(p.file.clone()).or_default(), &p.op, None);
            image.applied += 1;
        }
        if let Some(p) = pending.get(cut) {
            if let Op::Write { data, .. } = &p.op {
                if !data.is_empty() {
                    let kept = (next(&mut rng) % data.len() as u64) as usize;
                    let garbage = next(&mut rng) % 2 == 0;
                    let content = files.entry(p.file.clone()).or_default();
                    apply(content, &p.op, Some((kept, garbage, &mut rng)));
                    image.torn = true;
                }
            }
        }
        std::fs::create_dir_all(dir)?;
        for (path, content) in &files {
            let name = Path::new(path).file_name().ok_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::InvalidInput, "file without a name")
            })?;
            std::fs::write(dir.join(name), content)?;
        }
        Ok(image)
    }
}

/// The VFS as registered: the platform's default, copied, with our open and delete; it
/// remembers the default it wraps and the test's control.
#[repr(C)]
struct ShimVfs {
    vfs: ffi::sqlite3_vfs,
    base: *mut ffi::sqlite3_vfs,
    control: Arc<Control>,
    _name: CString,
}

/// Our part of an open file; the wrapped VFS's file follows at [`HEADER`].
#[repr(C)]
struct ShimFile {
    file: ffi::sqlite3_file,
    /// The path of a tracked file (owned, freed on close); null for files not tracked.
    path: *mut String,
    control: *const Control,
}

const HEADER: usize = std::mem::size_of::<ShimFile>().next_multiple_of(16);

/// Registers a fault-injecting VFS under `name` (not as the default) and returns its
/// control. Open a connection on it with `Connection::open_with_flags_and_vfs`. A VFS lives
/// as long as the process: SQLite keeps the pointer, so it is never freed.
///
/// # Panics
/// If `name` holds a NUL byte or SQLite has no default VFS.
pub fn register(name: &str) -> Arc<Control> {
    let control = Arc::new(Control::default());
    let name = CString::new(name).expect("a VFS name has no NUL byte");
    // SAFETY: sqlite3_vfs_find initialises SQLite and returns the default VFS, which lives
    // for the process. The copy we register is leaked, so the pointer SQLite keeps stays
    // valid; its name points into the leaked CString's heap buffer, which never moves.
    unsafe {
        let base = ffi::sqlite3_vfs_find(std::ptr::null());
        assert!(!base.is_null(), "SQLite has no default VFS");
        let mut vfs = *base;
        vfs.pNext = std::ptr::null_mut();
        vfs.zName = name.as_ptr();
        vfs.szOsFile = HEADER as c_int + (*base).szOsFile;
        vfs.xOpen = Some(x_open);
        vfs.xDelete = Some(x_delete);
        let shim = Box::leak(Box::new(ShimVfs {
            vfs,
            base,
            control: control.clone(),
            _name: name,
        }));
        let rc = ffi::sqlite3_vfs_register(&mut shim.vfs, 0);
        assert_eq!(rc, ffi::SQLITE_OK, "cannot register the VFS");
    }
    control
}

/// The wrapped VFS's file inside ours.
///
/// # Safety
/// `file` points to a file SQLite allocated for this VFS (`szOsFile` bytes).
unsafe fn real(file: *mut ffi::sqlite3_file) -> *mut ffi::sqlite3_file {
    file.cast::<u8>().add(HEADER).cast()
}

/// Our header, the wrapped file and its methods.
///
/// # Safety
/// `file` is a file this VFS opened successfully and has not closed.
unsafe fn parts<'a>(
    file: *mut ffi::sqlite3_file,
) -> (
    &'a ShimFile,
    *mut ffi::sqlite3_file,
    &'a ffi::sqlite3_io_methods,
) {
    let shim = &*file.cast::<ShimFile>();
    let real = real(file);
    (shim, real, &*(*real).pMethods)
}

unsafe extern "C" fn x_open(
    vfs: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let shim = &*vfs.cast::<ShimVfs>();
    (*file).pMethods = std::ptr::null();
    if shim.control.state().crashed {
        return ffi::SQLITE_CANTOPEN;
    }
    let Some(open) = (*shim.base).xOpen else {
        return ffi::SQLITE_CANTOPEN;
    };
    let rc = open(shim.base, name, real(file), flags, out_flags);
    if rc != ffi::SQLITE_OK {
        return rc;
    }
    let tracked = ffi::SQLITE_OPEN_MAIN_DB | ffi::SQLITE_OPEN_WAL | ffi::SQLITE_OPEN_MAIN_JOURNAL;
    let path = if flags & tracked != 0 && !name.is_null() {
        let path = CStr::from_ptr(name).to_string_lossy().into_owned();
        let mut state = shim.control.state();
        if !state.durable.contains_key(&path) {
            // What is on disk when first opened counts as durable: the test starts from it.
            let content = std::fs::read(&path).unwrap_or_default();
            state.durable.insert(path.clone(), content);
        }
        Box::into_raw(Box::new(path))
    } else {
        std::ptr::null_mut()
    };
    file.cast::<ShimFile>().write(ShimFile {
        file: ffi::sqlite3_file { pMethods: &METHODS },
        path,
        control: Arc::as_ptr(&shim.control),
    });
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_delete(
    vfs: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    sync_dir: c_int,
) -> c_int {
    let shim = &*vfs.cast::<ShimVfs>();
    let mut state = shim.control.state();
    if state.crashed {
        return ffi::SQLITE_IOERR_DELETE;
    }
    let Some(delete) = (*shim.base).xDelete else {
        return ffi::SQLITE_IOERR_DELETE;
    };
    let rc = delete(shim.base, name, sync_dir);
    if rc == ffi::SQLITE_OK && !name.is_null() {
        let path = CStr::from_ptr(name).to_string_lossy().into_owned();
        state.durable.remove(&path);
        state.pending.retain(|p| p.file != path);
    }
    rc
}

static METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 3,
    xClose: Some(x_close),
    xRead: Some(x_read),
    xWrite: Some(x_write),
    xTruncate: Some(x_truncate),
    xSync: Some(x_sync),
    xFileSize: Some(x_file_size),
    xLock: Some(x_lock),
    xUnlock: Some(x_unlock),
    xCheckReservedLock: Some(x_check_reserved_lock),
    xFileControl: Some(x_file_control),
    xSectorSize: Some(x_sector_size),
    xDeviceCharacteristics: Some(x_device_characteristics),
    xShmMap: Some(x_shm_map),
    xShmLock: Some(x_shm_lock),
    xShmBarrier: Some(x_shm_barrier),
    xShmUnmap: Some(x_shm_unmap),
    xFetch: Some(x_fetch),
    xUnfetch: Some(x_unfetch),
};

/// Calls the wrapped file's method, or fails with `$missing` if it has none.
macro_rules! forward {
    ($methods:expr, $method:ident, $missing:expr, $($arg:expr),*) => {
        match $methods.$method {
            Some(method) => method($($arg),*),
            None => $missing,
        }
    };
}

unsafe extern "C" fn x_close(file: *mut ffi::sqlite3_file) -> c_int {
    let (shim, real, methods) = parts(file);
    let rc = forward!(methods, xClose, ffi::SQLITE_OK, real);
    if !shim.path.is_null() {
        drop(Box::from_raw(shim.path));
    }
    rc
}

unsafe extern "C" fn x_read(
    file: *mut ffi::sqlite3_file,
    buf: *mut c_void,
    amount: c_int,
    offset: ffi::sqlite3_int64,
) -> c_int {
    let (shim, real, methods) = parts(file);
    if (*shim.control).state().crashed {
        return ffi::SQLITE_IOERR_READ;
    }
    forward!(
        methods,
        xRead,
        ffi::SQLITE_IOERR_READ,
        real,
        buf,
        amount,
        offset
    )
}

unsafe extern "C" fn x_write(
    file: *mut ffi::sqlite3_file,
    buf: *const c_void,
    amount: c_int,
    offset: ffi::sqlite3_int64,
) -> c_int {
    let (shim, real, methods) = parts(file);
    let mut state = (*shim.control).state();
    if shim.path.is_null() {
        if state.crashed {
            return ffi::SQLITE_IOERR_WRITE;
        }
        return forward!(
            methods,
            xWrite,
            ffi::SQLITE_IOERR_WRITE,
            real,
            buf,
            amount,
            offset
        );
    }
    if !state.operate() {
        return ffi::SQLITE_IOERR_WRITE;
    }
    let rc = forward!(
        methods,
        xWrite,
        ffi::SQLITE_IOERR_WRITE,
        real,
        buf,
        amount,
        offset
    );
    if rc == ffi::SQLITE_OK {
        let len = usize::try_from(amount).unwrap_or(0);
        let data = std::slice::from_raw_parts(buf.cast::<u8>(), len).to_vec();
        state.pending.push(Pending {
            file: (*shim.path).clone(),
            op: Op::Write {
                offset: u64::try_from(offset).unwrap_or(0),
                data,
            },
        });
    }
    rc
}

unsafe extern "C" fn x_truncate(file: *mut ffi::sqlite3_file, size: ffi::sqlite3_int64) -> c_int {
    let (shim, real, methods) = parts(file);
    let mut state = (*shim.control).state();
    if shim.path.is_null() {
        if state.crashed {
            return ffi::SQLITE_IOERR_TRUNCATE;
        }
        return forward!(methods, xTruncate, ffi::SQLITE_IOERR_TRUNCATE, real, size);
    }
    if !state.operate() {
        return ffi::SQLITE_IOERR_TRUNCATE;
    }
    let rc = forward!(methods, xTruncate, ffi::SQLITE_IOERR_TRUNCATE, real, size);
    if rc == ffi::SQLITE_OK {
        state.pending.push(Pending {
            file: (*shim.path).clone(),
            op: Op::Truncate(u64::try_from(size).unwrap_or(0)),
        });
    }
    rc
}

unsafe extern "C" fn x_sync(file: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
    let (shim, real, methods) = parts(file);
    let mut state = (*shim.control).state();
    if shim.path.is_null() {
        if state.crashed {
            return ffi::SQLITE_IOERR_FSYNC;
        }
        return forward!(methods, xSync, ffi::SQLITE_IOERR_FSYNC, real, flags);
    }
    if !state.operate() {
        return ffi::SQLITE_IOERR_FSYNC;
    }
    if let Some(n) = state.fail_sync_in {
        if n <= 1 {
            state.fail_sync_in = None;
            state.failed_syncs += 1;
            return ffi::SQLITE_IOERR_FSYNC;
        }
        state.fail_sync_in = Some(n - 1);
    }
    let rc = forward!(methods, xSync, ffi::SQLITE_IOERR_FSYNC, real, flags);
    if rc == ffi::SQLITE_OK {
        // This file's pending operations are now on the platter, in order.
        let path: &String = &*shim.path;
        let pending = std::mem::take(&mut state.pending);
        let (synced, still): (Vec<_>, Vec<_>) = pending.into_iter().partition(|p| &p.file == path);
        state.pending = still;
        let content = state.durable.entry(path.clone()).or_default();
        for p in &synced {
            apply(content, &p.op, None);
        }
    }
    rc
}

unsafe extern "C" fn x_file_size(
    file: *mut ffi::sqlite3_file,
    size: *mut ffi::sqlite3_int64,
) -> c_int {
    let (shim, real, methods) = parts(file);
    if (*shim.control).state().crashed {
        return ffi::SQLITE_IOERR_FSTAT;
    }
    forward!(methods, xFileSize, ffi::SQLITE_IOERR_FSTAT, real, size)
}

unsafe extern "C" fn x_lock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    let (shim, real, methods) = parts(file);
    if (*shim.control).state().crashed {
        return ffi::SQLITE_IOERR_LOCK;
    }
    forward!(methods, xLock, ffi::SQLITE_IOERR_LOCK, real, level)
}

unsafe extern "C" fn x_unlock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    let (_, real, methods) = parts(file);
    forward!(methods, xUnlock, ffi::SQLITE_IOERR_UNLOCK, real, level)
}

unsafe extern "C" fn x_check_reserved_lock(file: *mut ffi::sqlite3_file, out: *mut c_int) -> c_int {
    let (_, real, methods) = parts(file);
    forward!(
        methods,
        xCheckReservedLock,
        ffi::SQLITE_IOERR_CHECKRESERVEDLOCK,
        real,
        out
    )
}

unsafe extern "C" fn x_file_control(
    file: *mut ffi::sqlite3_file,
    op: c_int,
    arg: *mut c_void,
) -> c_int {
    let (_, real, methods) = parts(file);
    forward!(methods, xFileControl, ffi::SQLITE_NOTFOUND, real, op, arg)
}

unsafe extern "C" fn x_sector_size(file: *mut ffi::sqlite3_file) -> c_int {
    let (_, real, methods) = parts(file);
    forward!(methods, xSectorSize, 4096, real)
}

unsafe extern "C" fn x_device_characteristics(file: *mut ffi::sqlite3_file) -> c_int {
    let (_, real, methods) = parts(file);
    forward!(methods, xDeviceCharacteristics, 0, real)
}

unsafe extern "C" fn x_shm_map(
    file: *mut ffi::sqlite3_file,
    page: c_int,
    page_size: c_int,
    extend: c_int,
    out: *mut *mut c_void,
) -> c_int {
    let (shim, real, methods) = parts(file);
    if (*shim.control).state().crashed {
        return ffi::SQLITE_IOERR_SHMMAP;
    }
    forward!(
        methods,
        xShmMap,
        ffi::SQLITE_IOERR_SHMMAP,
        real,
        page,
        page_size,
        extend,
        out
    )
}

unsafe extern "C" fn x_shm_lock(
    file: *mut ffi::sqlite3_file,
    offset: c_int,
    n: c_int,
    flags: c_int,
) -> c_int {
    let (_, real, methods) = parts(file);
    forward!(
        methods,
        xShmLock,
        ffi::SQLITE_IOERR_SHMLOCK,
        real,
        offset,
        n,
        flags
    )
}

unsafe extern "C" fn x_shm_barrier(file: *mut ffi::sqlite3_file) {
    let (_, real, methods) = parts(file);
    if let Some(barrier) = methods.xShmBarrier {
        barrier(real);
    }
}

unsafe extern "C" fn x_shm_unmap(file: *mut ffi::sqlite3_file, delete: c_int) -> c_int {
    let (_, real, methods) = parts(file);
    forward!(methods, xShmUnmap, ffi::SQLITE_OK, real, delete)
}

unsafe extern "C" fn x_fetch(
    file: *mut ffi::sqlite3_file,
    offset: ffi::sqlite3_int64,
    amount: c_int,
    out: *mut *mut c_void,
) -> c_int {
    let (shim, real, methods) = parts(file);
    if (*shim.control).state().crashed {
        // No mapping: SQLite falls back to xRead, which reports the failure.
        *out = std::ptr::null_mut();
        return ffi::SQLITE_OK;
    }
    forward!(
        methods,
        xFetch,
        ffi::SQLITE_IOERR_MMAP,
        real,
        offset,
        amount,
        out
    )
}

unsafe extern "C" fn x_unfetch(
    file: *mut ffi::sqlite3_file,
    offset: ffi::sqlite3_int64,
    page: *mut c_void,
) -> c_int {
    let (_, real, methods) = parts(file);
    forward!(methods, xUnfetch, ffi::SQLITE_OK, real, offset, page)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn apply_all(ops: &[Op]) -> Vec<u8> {
        let mut content = Vec::new();
        for op in ops {
            apply(&mut content, op, None);
        }
        content
    }

    #[test]
    fn writes_extend_and_truncations_cut() {
        let content = apply_all(&[
            Op::Write {
                offset: 4,
                data: vec![1, 2],
            },
            Op::Truncate(5),
            Op::Write {
                offset: 0,
                data: vec![9],
            },
        ]);
        assert_eq!(content, vec![9, 0, 0, 0, 1]);
    }
}
