//go:build !linux

package store

import "errors"

// exchangeDirs is not available here: Restore swaps by two renames.
func exchangeDirs(a, b string) error {
	return errors.New("no atomic exchange of directories on this system")
}
