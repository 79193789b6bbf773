package types

import (
	"reflect"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/zishang520/socket.io/v3/pkg/log"
)

const (
	// Version current version number
	EventVersion = "0.0.3"
)

var eventsLog = log.NewLog("engine:events")

type (
	// EventName is just a type of string, it's the event name
	EventName string
	// Listener is the type of a Listener, it's a func which receives any,optional, arguments from the caller/emmiter
	EventListener func(...any)
	// Events the type for registered listeners, it's just a map[string][]func(...any)
	Events map[EventName][]EventListener
	// EventEmitter is the message/or/event manager
	EventEmitter interface {
		// AddListener is an alias for .On(eventName, listener).
		AddListener(EventName, ...EventListener) error
		// Emit fires a particular event,
		// Synchronously calls each of the listeners registered for the event named
		// eventName, in the order they were registered,
		// passing the supplied arguments to each.
		Emit(EventName, ...any)
		// EventNames returns an array listing the events for which the emitter has registered listeners.
		// The values in the array will be strings.
		EventNames() []EventName
		// ListenerCount returns the length of all registered listeners to a particular event
		ListenerCount(EventName) int
		// Listeners returns a copy of the array of listeners for the event named eventName.
		Listeners(EventName) []EventListener
		// On registers a particular listener for an event, func receiver parameter(s) is/are optional
		On(EventName, ...EventListener) error
		// Once adds a one time listener function for the event named eventName.
		// The next time eventName is triggered, this listener is removed and then invoked.
		Once(EventName, ...EventListener) error
		// RemoveAllListeners removes all listeners, or those of the specified eventName.
		// Note that it will remove the event itself.
		// Returns an indicator if event and listeners were found before the remove.
		RemoveAllListeners(EventName) bool
		// RemoveListener removes given listener from the event named eventName.
		// Returns an indicator whether listener was removed
		RemoveListener(EventName, EventListener) bool
		// Clear removes all events and all listeners, restores Events to an empty value
		Clear()
		// Len returns the length of all registered events
		Len() int
	}

	// Switchboard patch (third_party/socket.io/PATCHES.md): one slice of
	// listeners per emitter instead of a concurrent map of event names to
	// concurrent slices of pointers (types.Map + Slice + an entry per
	// listener, ~2.4 KiB per connection over its emitters).
	listenerEntry struct {
		evt  EventName
		fn   EventListener
		once uint64 // for a listener added with Once: its number, never 0
	}

	// emmiter keeps its listeners in registration order in a copy-on-write
	// slice: a published slice is never changed below its length, so Emit
	// reads a snapshot without a lock and without copying. On and Once
	// append (in place only past the published length), removals build a
	// new slice; writers are serialized by mu. An emitter with no
	// listeners holds no slice.
	emmiter struct {
		mu        sync.Mutex
		listeners atomic.Pointer[[]listenerEntry]
	}
)

// CopyTo copies the event listeners to an EventEmitter
func (e Events) CopyTo(emitter EventEmitter) {
	if len(e) > 0 {
		// register the events to/with their listeners
		for evt, listeners := range e {
			if len(listeners) > 0 {
				_ = emitter.AddListener(evt, listeners...)
			}
		}
	}
}

// onceNumbers numbers the listeners added with Once.
var onceNumbers atomic.Uint64

// New returns a new, empty, EventEmitter
func NewEventEmitter() EventEmitter {
	return &emmiter{}
}

// snapshot returns the current listeners; the caller must not modify them.
func (e *emmiter) snapshot() []listenerEntry {
	if p := e.listeners.Load(); p != nil {
		return *p
	}
	return nil
}

// publish makes l the current listeners; e.mu must be held.
func (e *emmiter) publish(l []listenerEntry) {
	if len(l) == 0 {
		e.listeners.Store(nil)
		return
	}
	e.listeners.Store(&l)
}

func (e *emmiter) add(evt EventName, listeners []EventListener, once bool) {
	n := 0
	for _, fn := range listeners {
		if fn != nil {
			n++
		}
	}
	if n == 0 {
		return
	}

	e.mu.Lock()
	defer e.mu.Unlock()

	cur := e.snapshot()
	next := cur
	if cap(cur)-len(cur) < n {
		// Exact size while small (most emitters hold a handful of
		// listeners for life), amortized growth beyond.
		size := len(cur) + n
		if size > 8 {
			size += size / 2
		}
		next = make([]listenerEntry, len(cur), size)
		copy(next, cur)
	}
	// Appending in place writes only past len(cur): no snapshot sees it.
	for _, fn := range listeners {
		if fn == nil {
			continue
		}
		entry := listenerEntry{evt: evt, fn: fn}
		if once {
			entry.once = onceNumbers.Add(1)
		}
		next = append(next, entry)
	}
	e.publish(next)
}

// remove drops the listeners of evt for which match is true (only the
// first one unless all) and reports whether it dropped any.
func (e *emmiter) remove(evt EventName, all bool, match func(*listenerEntry) bool) bool {
	e.mu.Lock()
	defer e.mu.Unlock()

	cur := e.snapshot()
	var next []listenerEntry
	removed := false
	for i := range cur {
		l := &cur[i]
		if l.evt == evt && (all || !removed) && match(l) {
			if !removed {
				next = make([]listenerEntry, i, len(cur)-1)
				copy(next, cur[:i])
				removed = true
			}
			continue
		}
		if removed {
			next = append(next, *l)
		}
	}
	if removed {
		e.publish(next)
	}
	return removed
}

// fire calls l with data. A Once listener is called only by whoever
// removes it (so once, and a reentrant Emit cannot reach it); one removed
// by RemoveListener before an Emit that had it in its snapshot reached it
// is not called.
func (e *emmiter) fire(l *listenerEntry, data []any) {
	defer func() {
		if r := recover(); r != nil {
			// Prevent a panicking listener from crashing the emitter.
			eventsLog.Errorf("event listener panic recovered: %v\n%s", r, debug.Stack())
		}
	}()
	if once := l.once; once != 0 && !e.remove(l.evt, false, func(o *listenerEntry) bool { return o.once == once }) {
		return
	}
	l.fn(data...)
}

func (e *emmiter) AddListener(evt EventName, listeners ...EventListener) error {
	e.add(evt, listeners, false)
	return nil
}

// Alias: [AddListener]
func (e *emmiter) On(evt EventName, listeners ...EventListener) error {
	return e.AddListener(evt, listeners...)
}

func (e *emmiter) Emit(evt EventName, data ...any) {
	listeners := e.snapshot()
	for i := range listeners {
		if listeners[i].evt == evt {
			e.fire(&listeners[i], data)
		}
	}
}

func (e *emmiter) EventNames() (names []EventName) {
	for _, l := range e.snapshot() {
		if !slices.Contains(names, l.evt) {
			names = append(names, l.evt)
		}
	}
	return names
}

func (e *emmiter) ListenerCount(evt EventName) (n int) {
	for _, l := range e.snapshot() {
		if l.evt == evt {
			n++
		}
	}
	return n
}

func (e *emmiter) Listeners(evt EventName) (listeners []EventListener) {
	all := e.snapshot()
	for i := range all {
		if all[i].evt != evt {
			continue
		}
		if all[i].once == 0 {
			listeners = append(listeners, all[i].fn)
			continue
		}
		l := &all[i]
		listeners = append(listeners, func(data ...any) { e.fire(l, data) })
	}
	return listeners
}

// Once adds a one time listener function for the event named eventName.
func (e *emmiter) Once(evt EventName, listeners ...EventListener) error {
	e.add(evt, listeners, true)
	return nil
}

// RemoveListener removes the first listener of evt that is listener (the
// same function pointer, as upstream compares them).
func (e *emmiter) RemoveListener(evt EventName, listener EventListener) bool {
	if listener == nil {
		return false
	}
	target := reflect.ValueOf(listener).Pointer()
	return e.remove(evt, false, func(l *listenerEntry) bool {
		return reflect.ValueOf(l.fn).Pointer() == target
	})
}

func (e *emmiter) RemoveAllListeners(evt EventName) bool {
	return e.remove(evt, true, func(*listenerEntry) bool { return true })
}

func (e *emmiter) Clear() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.publish(nil)
}

func (e *emmiter) Len() int {
	return len(e.EventNames())
}
