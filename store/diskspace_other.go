//go:build !unix

package store

import (
	"errors"
	"io/fs"
)

// freeSpace is not implemented here: writes are not checked against the
// disk margin.
func freeSpace(dir string) (uint64, error) {
	return 0, errors.New("free space is not measured on this system")
}

func allocated(fi fs.FileInfo) uint64 { return uint64(fi.Size()) }
