package main

import "errors"

// serve is filled in by the SSH server work (issue 4).
func (e *env) serve(args []string) error {
	return errors.New("desk serve is not built yet")
}
