//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package gitinfo

import (
	"os"
	"syscall"
)

// mapFile maps f read-only into memory, so that looking an object up in a
// pack index touches a few pages instead of reading the index.
func mapFile(f *os.File, size int64) (data []byte, unmap func() error, ok bool, err error) {
	if size <= 0 || int64(int(size)) != size {
		return nil, nil, false, nil
	}
	data, err = syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, false, err
	}
	return data, func() error { return syscall.Munmap(data) }, true, nil
}
