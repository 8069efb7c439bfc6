package fichier

import (
	"context"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/rclone-fichier/rclone-fichier/backend/fichier/api"
	"github.com/rclone/rclone/fs"
)

// Batched uploads.
//
// An upload costs three API calls whatever its size (get_upload_server.cgi,
// upload.cgi and end.pl), and upload.cgi takes many files in one request.
// So small files bound for one folder go out together: the first one
// starts the folder's runner, which waits for the API budget to ask for an
// upload server; every file for that folder arriving meanwhile joins the
// request the runner then sends. A lone file goes out as soon as the budget
// allows, as it would unbatched; there is no timer. rclone's --transfers
// bounds how many Puts wait at once, and so the size of a batch.
//
// rclone's lib/batcher does not fit: it commits after the data went up
// (here the data is the batch), it batches on a timer, and it has no
// notion of a destination folder.

// Limits of one upload.cgi request: 500 files and 500 GB, less room for
// the form around the files.
const (
	maxBatchFiles = 500
	maxBatchBytes = 500e9 - 1e9
)

// batchItem is one file to upload, and its outcome.
type batchItem struct {
	ctx      context.Context // the Put's
	in       io.Reader
	name     string // as 1fichier stores it
	mimeType string
	size     int64
	options  []fs.OpenOption

	readErr error         // what in gave instead of its data, if anything
	file    *api.File     // the stored file, or
	err     error         // why it is not stored
	done    chan struct{} // closed once file or err is set (batched items)
}

// batcher gathers the small uploads of one Fs into batches, by folder.
type batcher struct {
	f       *Fs
	maxSize int64 // larger files go alone; 0 turns batching off

	mu     sync.Mutex
	queues map[int][]*batchItem // waiting files by folder; a folder has a runner while it has an entry
	alone  map[aloneKey]bool    // files to send alone on their next try
}

// aloneKey names a file in a folder.
type aloneKey struct {
	folder int
	name   string
}

func newBatcher(f *Fs, maxSize int64) *batcher {
	return &batcher{
		f:       f,
		maxSize: maxSize,
		queues:  make(map[int][]*batchItem),
		alone:   make(map[aloneKey]bool),
	}
}

// accepts reports whether item may join a batch for folder id: it is
// small enough, its name is one 1fichier is known to take (a refused name
// fails the whole request), and it was not in a request 1fichier refused.
func (b *batcher) accepts(id int, item *batchItem) bool {
	if b.maxSize <= 0 || item.size > b.maxSize || !plainName(item.name) {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	key := aloneKey{folder: id, name: item.name}
	if b.alone[key] {
		delete(b.alone, key)
		return false
	}
	return true
}

// plainName reports whether name has none of what 1fichier refuses or
// mangles: the characters \ < > " ' $ ` / ´, control characters, spaces at
// either end, and invalid UTF-8. The default encoding removes most of them,
// but not every user keeps it.
func plainName(name string) bool {
	return utf8.ValidString(name) &&
		strings.TrimSpace(name) == name &&
		!strings.ContainsAny(name, "\\<>\"'$`/´") &&
		!strings.ContainsFunc(name, unicode.IsControl)
}

// sendAlone makes the next try of each of items go alone.
func (b *batcher) sendAlone(id int, items []*batchItem) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, item := range items {
		b.alone[aloneKey{folder: id, name: item.name}] = true
	}
}

// add queues item for folder id and returns once it is stored or has
// failed. If ctx ends while the item still waits, it leaves the queue.
func (b *batcher) add(ctx context.Context, id int, item *batchItem) (*api.File, error) {
	item.done = make(chan struct{})
	b.mu.Lock()
	queue, running := b.queues[id]
	b.queues[id] = append(queue, item)
	b.mu.Unlock()
	if !running {
		go b.run(context.WithoutCancel(ctx), id)
	}
	select {
	case <-item.done:
	case <-ctx.Done():
		if b.withdraw(id, item) {
			return nil, ctx.Err()
		}
		<-item.done
	}
	return item.file, item.err
}

// withdraw takes item out of folder id's queue and reports whether it was
// still there.
func (b *batcher) withdraw(id int, item *batchItem) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	queue := b.queues[id]
	for i, queued := range queue {
		if queued == item {
			b.queues[id] = append(queue[:i], queue[i+1:]...)
			return true
		}
	}
	return false
}

// run sends folder id's batches, one after another, until no file waits.
func (b *batcher) run(ctx context.Context, id int) {
	for b.waiting(id) {
		// Asking for an upload server waits for the budget: the batch
		// forms meanwhile.
		node, err := b.f.uploadNode(ctx)
		items := b.take(id)
		if len(items) == 0 {
			continue
		}
		if err != nil {
			for _, item := range items {
				item.err = err
			}
		} else {
			b.send(node, id, items)
		}
		for _, item := range items {
			close(item.done)
		}
	}
}

// waiting reports whether files wait for folder id; if none do, the
// folder's runner ends.
func (b *batcher) waiting(id int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.queues[id]) > 0 {
		return true
	}
	delete(b.queues, id)
	return false
}

// take removes the next batch from folder id's queue, in order: at most
// maxBatchFiles files and maxBatchBytes bytes, and never two of one name
// (1fichier's answer tells files apart by name). The rest wait for the
// next batch.
func (b *batcher) take(id int) []*batchItem {
	b.mu.Lock()
	defer b.mu.Unlock()
	var batch, rest []*batchItem
	names := make(map[string]bool)
	var bytes int64
	for _, item := range b.queues[id] {
		if len(batch) == maxBatchFiles || names[item.name] || bytes+item.size > maxBatchBytes {
			rest = append(rest, item)
			continue
		}
		batch = append(batch, item)
		names[item.name] = true
		bytes += item.size
	}
	b.queues[id] = rest
	return batch
}

// send uploads items in one request. The request is cancelled only when
// every one of their Puts is.
func (b *batcher) send(node *uploadNode, id int, items []*batchItem) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(items[0].ctx))
	defer cancel()
	var left atomic.Int64
	left.Store(int64(len(items)))
	for _, item := range items {
		stop := context.AfterFunc(item.ctx, func() {
			if left.Add(-1) == 0 {
				cancel()
			}
		})
		defer stop()
	}
	b.f.uploadFiles(ctx, node, id, items)
}
