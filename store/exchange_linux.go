package store

import (
	"runtime"
	"syscall"
	"unsafe"
)

// renameat2 by architecture (the syscall package has no constant for it on
// every one of them).
var sysRenameat2 = map[string]uintptr{
	"amd64": 316, "386": 353, "arm": 382, "arm64": 276, "riscv64": 276, "loong64": 276,
	"ppc64": 357, "ppc64le": 357, "s390x": 347, "mips64": 5311, "mips64le": 5311,
}

const (
	renameExchange = 1 << 1 // RENAME_EXCHANGE
	atFDCWD        = -100   // AT_FDCWD: paths relative to the working directory
)

// exchangeDirs swaps two paths on one filesystem in one step
// (renameat2 RENAME_EXCHANGE, Linux 3.15; ext4, xfs, btrfs, tmpfs), so a
// crash leaves either the old directory or the new one in place, never
// neither. An error means nothing was changed.
func exchangeDirs(a, b string) error {
	nr, ok := sysRenameat2[runtime.GOARCH]
	if !ok {
		return syscall.ENOSYS
	}
	pa, err := syscall.BytePtrFromString(a)
	if err != nil {
		return err
	}
	pb, err := syscall.BytePtrFromString(b)
	if err != nil {
		return err
	}
	cwd := atFDCWD
	_, _, errno := syscall.Syscall6(nr, uintptr(cwd), uintptr(unsafe.Pointer(pa)), uintptr(cwd), uintptr(unsafe.Pointer(pb)), renameExchange, 0)
	if errno != 0 {
		return errno
	}
	return nil
}
