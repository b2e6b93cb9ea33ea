package tui

import "github.com/deskhq/desk/board"

// The console reads the shared board (package board): one per desk, never
// recounted per session.
type (
	Row      = board.Row
	Board    = board.Board
	Snapshot = board.Snapshot
)

func active(r *Row) bool { return r.Group() != board.GroupDone }
