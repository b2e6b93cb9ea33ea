//go:build unix

package store

import (
	"io/fs"
	"syscall"
)

// freeSpace is what an unprivileged process may still allocate on the
// filesystem holding dir (statfs f_bavail; root may also use reserved
// blocks, so this errs on the safe side).
func freeSpace(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return uint64(st.Bavail) * uint64(st.Bsize), nil
}

// allocated is the space a file takes on disk (a sparse file takes less
// than its size).
func allocated(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Blocks) * 512
	}
	return uint64(fi.Size())
}
