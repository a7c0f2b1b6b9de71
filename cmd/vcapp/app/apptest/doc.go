// Package apptest helps tests drive vcapp as a person at a terminal does: it opens
// pseudo-terminals, so that a test can answer deploy's confirmation prompt or watch the
// live table, with nothing but the standard library.
package apptest
