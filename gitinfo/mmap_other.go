//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package gitinfo

import "os"

// mapFile is not available here: the caller reads the file instead.
func mapFile(f *os.File, size int64) (data []byte, unmap func() error, ok bool, err error) {
	return nil, nil, false, nil
}
