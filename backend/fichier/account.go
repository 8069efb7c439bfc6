package fichier

import (
	"context"
	"crypto/sha256"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/rclone-fichier/rclone-fichier/backend/fichier/api"
	"github.com/rclone/rclone/fs"
)

// account is what every Fs using the same API key (and API URL) shares:
// the call budget, the folder listings, the account info and the download
// tokens. 1fichier counts per key and per IP, so sharing is the only way
// two remotes, a mount beside a copy, or a cron job beside a mount stay
// inside the limits. All of it lives in the machine-wide state (state.go);
// this process keeps only decoded copies and in-flight fetches.
type account struct {
	db       *stateDB
	limits   *limits
	listings *listCache
	journal  *journal
	scale    *timeScale // of a test server's clocks (timescale.go)

	tokenFetch   sync.Mutex   // held while a token is fetched
	refusedNames refusedNames // names 1fichier refused, in this process
	room         folderRoom   // uploads on their way, by folder
}

var (
	accountsMu sync.Mutex
	accounts   = make(map[[sha256.Size]byte]*account)
)

// accountFor returns the shared state for opt's key and API URL, making it
// on first use. A second remote of the same key with other rate settings
// shares the same budget, so the most careful value of each wins, with a
// NOTICE. Only hashes of the key are kept, in memory and in the state.
func accountFor(opt *Options) *account {
	id := accountID(opt)
	accountsMu.Lock()
	defer accountsMu.Unlock()
	acc := accounts[id]
	if acc == nil {
		db := openState(stateDir(), opt.APIURL, opt.APIKey)
		acc = &account{
			db:       db,
			limits:   newLimits(db, opt.APIRate, time.Duration(opt.FloodWait), time.Duration(opt.ListInterval)),
			listings: newListCache(db),
			journal:  newJournal(db),
			scale:    newTimeScale(opt.APIURL, storedTimeScale(db)),
		}
		acc.limits.scale = acc.scale
		acc.listings.lag, acc.listings.scale = listingLag, acc.scale
		acc.listings.startPruning(max(time.Duration(opt.ListCacheTime), defaultListCacheTime))
		accounts[id] = acc
		return acc
	}
	if changed := acc.limits.tighten(opt.APIRate, time.Duration(opt.FloodWait), time.Duration(opt.ListInterval)); len(changed) > 0 {
		fs.Logf(nil, "fichier: several remotes use one API key with different limits; every remote of the "+
			"key now uses the most careful: %s", strings.Join(changed, ", "))
	}
	return acc
}

// tokenLife is how long a download URL is used: the download host's five
// minutes less a margin for the clock and the request in flight.
func (a *account) tokenLife() time.Duration {
	return a.scale.of(tokenLifetime)
}

// accountID names the account of opt's key and API URL in accounts.
func accountID(opt *Options) [sha256.Size]byte {
	return sha256.Sum256([]byte(canonicalURL(opt.APIURL) + "\x00" + opt.APIKey))
}

// token returns a still valid download URL for fileURL, if any process
// fetched one.
func (a *account) token(fileURL string) (string, bool) {
	var t downloadToken
	err := a.db.view(func(k *keyTx) error {
		t, _ = k.token(fileURL)
		return nil
	})
	if err != nil || t.URL == "" || time.Now().After(t.Expires) {
		return "", false
	}
	return t.URL, true
}

// setToken remembers a download URL for fileURL until expires.
func (a *account) setToken(fileURL, downloadURL string, expires time.Time) {
	err := a.db.update(func(k *keyTx) error {
		return k.setToken(fileURL, downloadToken{URL: downloadURL, Expires: expires})
	})
	logStateError(err)
}

// dropToken forgets the download URL of fileURL, if it is still downloadURL.
func (a *account) dropToken(fileURL, downloadURL string) {
	err := a.db.update(func(k *keyTx) error {
		if t, ok := k.token(fileURL); ok && t.URL == downloadURL {
			return k.deleteToken(fileURL)
		}
		return nil
	})
	logStateError(err)
}

// userInfoMaxAge is how long a user/info answer is used: as long as
// 1fichier makes the next call wait.
func (a *account) userInfoMaxAge() time.Duration {
	_, perUser := a.limits.userInfoIntervals()
	return perUser
}

// cachedUserInfo returns the account info if any process read it less
// than maxAge ago.
func (a *account) cachedUserInfo(maxAge time.Duration) (*api.UserInfo, bool) {
	var s storedUserInfo
	err := a.db.view(func(k *keyTx) error {
		s, _ = k.userInfo()
		return nil
	})
	if err != nil || s.Info == nil || time.Since(s.At) > maxAge {
		return nil, false
	}
	return s.Info, true
}

// setUserInfo keeps the account info for every process.
func (a *account) setUserInfo(info *api.UserInfo) {
	err := a.db.update(func(k *keyTx) error {
		return k.setUserInfo(storedUserInfo{At: time.Now(), Info: info})
	})
	logStateError(err)
}

// userInfoRead is one read of user/info.cgi, which 1fichier lets each
// user make once per five minutes and each IP once a minute.
type userInfoRead struct {
	acc     *account
	ctx     context.Context
	release func() // gives back the IP's slot, once it was booked
}

// errUserInfoCached ends a read that another process made meanwhile.
var errUserInfoCached = errors.New("read by another process")

// readingUserInfo starts a read of the account info.
func (a *account) readingUserInfo(ctx context.Context) *userInfoRead {
	return &userInfoRead{acc: a, ctx: ctx}
}

// waitTurn books the IP's user/info slot. It runs before every attempt,
// so a retry waits for the next slot too; it ends the read when another
// process stored the answer while this one waited. It returns the
// slot's release, for an attempt that never reached 1fichier.
func (r *userInfoRead) waitTurn() (release func(), err error) {
	if r.release, err = r.acc.limits.waitUserInfo(r.ctx); err != nil {
		return nil, err
	}
	if _, ok := r.acc.cachedUserInfo(r.acc.userInfoMaxAge()); ok {
		r.release()
		return nil, errUserInfoCached
	}
	return r.release, nil
}

// finish stores the answer of the read for every process, or returns
// what another process stored, or gives back the slot of a call
// 1fichier refused before counting it.
func (r *userInfoRead) finish(info *api.UserInfo, err error) (*api.UserInfo, error) {
	switch {
	case errors.Is(err, errUserInfoCached):
		if cached, ok := r.acc.cachedUserInfo(r.acc.userInfoMaxAge()); ok {
			return cached, nil
		}
		return nil, errors.New("couldn't read the account info another process stored")
	case err != nil:
		// 1fichier checks the key before counting the call.
		if kind := apiKind(err); r.release != nil && (kind == api.KindBadKey || kind == api.KindNotCustomer) {
			r.release()
		}
		return nil, err
	}
	r.acc.setUserInfo(info)
	return info, nil
}

// forgetAnswers drops every answer kept for the key, in every process:
// the listings, the account info and the download URLs. With clocks it
// also drops the rate clocks and the flood gate, which may break
// 1fichier's rules on the next calls.
func (a *account) forgetAnswers(clocks bool) error {
	a.listings.forgetInProcess()
	return a.db.update(func(k *keyTx) error { return k.dropAnswers(clocks) })
}
