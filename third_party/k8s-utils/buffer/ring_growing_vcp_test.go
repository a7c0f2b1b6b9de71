package buffer

import "testing"

// TestNewRingGrowingStartsSmall checks the vcp patch: whatever initial size is asked for,
// at most defaultRingSize elements are allocated, and the ring still grows and keeps
// every element in order.
func TestNewRingGrowingStartsSmall(t *testing.T) {
	r := NewRingGrowing(1024)
	if r.Cap() != defaultRingSize {
		t.Fatalf("NewRingGrowing(1024).Cap() = %d, want %d", r.Cap(), defaultRingSize)
	}
	if small := NewRingGrowing(4); small.Cap() != 4 {
		t.Errorf("NewRingGrowing(4).Cap() = %d, want 4", small.Cap())
	}
	for round := 0; round < 3; round++ {
		for i := range 3000 {
			r.WriteOne(i)
			if i%3 == 0 { // read some while writing, so the ring wraps before it grows
				if _, ok := r.ReadOne(); !ok {
					t.Fatal("ReadOne on a non-empty ring")
				}
			}
		}
		for r.Len() > 0 {
			r.ReadOne()
		}
	}
	r.WriteOne("a")
	r.WriteOne("b")
	if v, _ := r.ReadOne(); v != "a" {
		t.Errorf("first out %v, want a", v)
	}
}

// TestRingGrowingOrder writes and reads interleaved and checks FIFO order across growth.
func TestRingGrowingOrder(t *testing.T) {
	r := NewRingGrowing(1024)
	next := 0
	for i := range 10000 {
		r.WriteOne(i)
		if i%7 == 0 {
			v, ok := r.ReadOne()
			if !ok || v != next {
				t.Fatalf("read %v (ok %v), want %d", v, ok, next)
			}
			next++
		}
	}
	for r.Len() > 0 {
		v, _ := r.ReadOne()
		if v != next {
			t.Fatalf("read %v, want %d", v, next)
		}
		next++
	}
	if next != 10000 {
		t.Fatalf("read %d elements, want 10000", next)
	}
}
