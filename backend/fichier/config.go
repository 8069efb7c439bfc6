package fichier

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/rclone-fichier/rclone-fichier/backend/fichier/api"
	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/config"
	"github.com/rclone/rclone/fs/config/configmap"
)

// The config wizard. rclone first asks the options (api_key among
// them), then runs wizard from state "": it checks the key with
// user/info.cgi and shows the account, or says what went wrong.
//
// Two traps of rclone's state machine shape it. In "rclone config create
// NAME fichier api_key=KEY" every question is answered from the command
// line or with its default, so a key asked again must not be called
// api_key (the same bad value would answer it for ever) and every "try
// again?" question defaults to No. States carry no secret: rclone logs
// them at -vv.

// envAPIKey is the environment variable rclone reads the key from when
// the config file has none.
var envAPIKey = fs.OptionToEnv("fichier-api-key")

// keyHelp is the question for a key entered again.
const keyHelp = `Your 1fichier API key.

Get it from https://1fichier.com/console/params.pl (Premium or Access
accounts only).`

// keyEnv returns the environment variable the remote's key comes from,
// or "" when it comes from the config file. Both variables override the
// config file.
func keyEnv(name string) string {
	for _, env := range []string{fs.ConfigToEnv(name, "api_key"), envAPIKey} {
		if os.Getenv(env) != "" {
			return env
		}
	}
	return ""
}

// floodError is a check that 1fichier refused because of a flood lock.
type floodError struct {
	err  *api.Error
	wait time.Duration
}

func (e *floodError) Error() string { return e.err.Error() }
func (e *floodError) Unwrap() error { return e.err }

// checkKey reads the account of the key in m with one user/info.cgi
// call. It needs no remote (a bare Fs makes the call), but waits for and
// feeds the same per-key budget and flood gate as every rclone using the
// key on this machine, and takes the answer another process read in the
// last five minutes instead of breaking 1fichier's rule for user/info. It
// does not retry: a person is waiting.
func checkKey(ctx context.Context, m configmap.Mapper) (*api.UserInfo, error) {
	opt, apiURL, err := readOptions(m)
	if err != nil {
		return nil, err
	}
	f := newBareFs(ctx, opt, apiURL)
	acc := f.acc
	if wait := acc.limits.lockRemaining(); wait > 0 {
		if info, ok := acc.cachedUserInfo(acc.userInfoMaxAge()); ok {
			return info, nil
		}
		return nil, &floodError{err: &api.Error{Message: "flood lock still running"}, wait: wait}
	}
	var info *api.UserInfo
	if _, cached := acc.cachedUserInfo(acc.userInfoMaxAge()); !cached && userInfoWait(acc.limits) > time.Second {
		// user/info.cgi's slot of this address is taken (another key
		// was checked in the last minute): a bad key is told at once
		// by a call that has no such slot.
		err = f.probeKey(ctx)
	}
	if err == nil {
		info, err = f.readUserInfo(ctx, retryNever)
	}
	var apiErr *api.Error
	if errors.As(err, &apiErr) && apiErr.Kind() == api.KindFlood {
		return nil, &floodError{err: apiErr, wait: acc.limits.flood(apiErr.Message)}
	}
	return info, err
}

// userInfoWait is how long a user/info.cgi call of the key would wait
// now for 1fichier's per-address and per-account slots.
func userInfoWait(l *limits) time.Duration {
	perIP, perUser := l.userInfoIntervals()
	var at time.Time
	err := l.db.view(func(k *keyTx) error {
		lost := k.lostAt()
		at = latest(k.hostClock(clockUserInfoIP), k.clock(clockUserInfoUser), lost.Add(perIP), lost.Add(perUser))
		return nil
	})
	if err != nil {
		return 0
	}
	return time.Until(at)
}

// probeKey checks the key with one remote/ls.cgi call, which only the
// calls-per-second budget limits: 1fichier refuses a bad key or a free
// account there as on user/info.cgi.
func (f *Fs) probeKey(ctx context.Context) error {
	var resp api.RemoteListResponse
	return f.call(ctx, &apiCall{path: api.RemoteLs, request: struct{}{}, response: &resp, retry: retryNever})
}

// dropRemote removes remote name from the config file when a refused
// key was all it had (a "config create" or a new remote of the wizard),
// and reports whether it did. A remote with other settings is kept,
// without a key.
func dropRemote(name string) bool {
	data := config.LoadedData()
	for _, key := range data.GetKeyList(name) {
		if value, _ := data.GetValue(name, key); key != "type" && key != "api_key" && value != "" {
			return false
		}
	}
	config.DeleteRemote(name)
	return true
}

// describeAccount is the account as the wizard shows it.
func describeAccount(info *api.UserInfo) string {
	var b strings.Builder
	fmt.Fprintf(&b, "The key works: 1fichier account %s, offer %s", info.Email, api.OfferName(info.Offer))
	if info.SubscriptionEnd != "" {
		fmt.Fprintf(&b, " until %s", showAPITime(info.SubscriptionEnd))
	}
	used, total := fs.SizeSuffix(info.ColdStorage), fs.SizeSuffix(info.AvailableColdStorage)
	fmt.Fprintf(&b, ".\nStorage: %s used", used.ByteUnit())
	if total > 0 {
		fmt.Fprintf(&b, " of %s (%s free)", total.ByteUnit(), max(total-used, 0).ByteUnit())
	}
	b.WriteString(".")
	if info.Overquota != 0 {
		b.WriteString("\nWarning: the account is over its quota; 1fichier may delete files.")
	}
	return b.String()
}

// envAdvice tells the user how to give the key through the environment.
func envAdvice(name string) string {
	return fmt.Sprintf(`The API key is not stored in the config file. Before using %s:,
set it in the environment, for example:

    export %s='YOUR KEY'        (Linux, macOS)
    $env:%s = 'YOUR KEY'        (Windows PowerShell)`, name, envAPIKey, envAPIKey)
}

// wizard is the backend's config state machine (fs.RegInfo.Config).
func wizard(ctx context.Context, name string, m configmap.Mapper, in fs.ConfigIn) (*fs.ConfigOut, error) {
	switch in.State {
	case "":
		return wizardCheck(ctx, name, m)
	case "store":
		if in.Result == "false" {
			m.Set("api_key", "")
			return &fs.ConfigOut{Error: envAdvice(name)}, nil
		}
		return nil, nil
	case "env_ok":
		if in.Result == "false" {
			return &fs.ConfigOut{Error: fmt.Sprintf("Set %s to the key of the account you want, or unset "+
				"it to use a key from the config file.", keyEnv(name))}, nil
		}
		return nil, nil
	case "no_key", "retry":
		if in.Result == "true" {
			out, _ := fs.ConfigInput("new_key", "config_api_key", keyHelp)
			out.Option.Sensitive = true
			return out, nil
		}
		if in.State == "no_key" {
			return &fs.ConfigOut{Error: envAdvice(name)}, nil
		}
		if dropRemote(name) {
			// Nothing to keep: the interactive config stops here, so
			// that it does not offer to keep a remote without a key.
			return nil, fmt.Errorf("no working API key was given for %s:, which has not been saved: run \"rclone config\" again with a working key", name)
		}
		return &fs.ConfigOut{Error: fmt.Sprintf("No working API key is stored for %s:. Set one with "+
			"\"rclone config update %s api_key=KEY\" or in %s.", name, name, envAPIKey)}, nil
	case "new_key":
		m.Set("api_key", strings.TrimSpace(in.Result))
		return wizardCheck(ctx, name, m)
	}
	return nil, fmt.Errorf("unknown state %q", in.State)
}

// wizardCheck checks the key and asks what follows from the answer.
func wizardCheck(ctx context.Context, name string, m configmap.Mapper) (*fs.ConfigOut, error) {
	key, _ := m.Get("api_key")
	if shared, _ := m.Get("shared_folder"); key == "" && shared != "" {
		return nil, nil // a shared folder needs no key
	}
	env := keyEnv(name)
	if key == "" {
		return fs.ConfigConfirm("no_key", false, "config_enter_key", fmt.Sprintf(`No API key was given.

To keep the key out of the config file, leave it out here and set it in
the environment variable %s before running rclone.

Enter a key now instead?`, envAPIKey))
	}
	info, err := checkKey(ctx, m)
	if err == nil {
		if info.Offer == 0 {
			err = &api.Error{Message: "Must be a customer (Premium, Access)"}
		} else if env != "" {
			return fs.ConfigConfirm("env_ok", true, "config_key_ok", fmt.Sprintf(`%s

The key comes from the environment variable %s; it is
not stored in the config file.

Use this account?`, describeAccount(info), env))
		} else {
			return fs.ConfigConfirm("store", true, "config_store_key", fmt.Sprintf(`%s

Keep the API key in the config file?

Answer No to leave it out: rclone then needs it in the environment
variable %s, which keeps it out of the config file and
its backups.`, describeAccount(info), envAPIKey))
		}
	}
	var flood *floodError
	if errors.As(err, &flood) {
		return &fs.ConfigOut{Error: fmt.Sprintf(`Couldn't check the key: 1fichier answered %q.
It refuses API calls from this address or key for a while after a flood:
wait about %v before using %s: (1fichier does not say exactly how
long). The key is saved but has not been checked.`, flood.err.Message, flood.wait.Round(time.Second), name)}, nil
	}
	kind := apiKind(err)
	if kind != api.KindBadKey && kind != api.KindNotCustomer {
		return &fs.ConfigOut{Error: fmt.Sprintf("Couldn't check the key: %v.\nThe key has not been "+
			"checked: \"rclone about %s:\" checks it later.", err, name)}, nil
	}
	said := err.Error()
	var apiErr *api.Error
	if errors.As(err, &apiErr) {
		said = apiErr.Message
	}
	why := fmt.Sprintf("1fichier refused the key: %s.", said)
	if kind == api.KindNotCustomer {
		why = fmt.Sprintf("This key belongs to a free account: the 1fichier API is only open to\nPremium "+
			"and Access accounts (1fichier says %q).", said)
	}
	if env != "" {
		return &fs.ConfigOut{Error: fmt.Sprintf("%s\nThe key comes from the environment variable %s: fix or unset it.", why, env)}, nil
	}
	// Never leave a refused key in the config as if it were good.
	m.Set("api_key", "")
	if fs.GetConfig(ctx).AutoConfirm {
		// "rclone config create" from a script: nobody can answer, and
		// the script should fail.
		return nil, fmt.Errorf("%s %s", why, notSaved(name))
	}
	return fs.ConfigConfirm("retry", false, "config_retry", why+"\n\nThe key has been removed from the config.\n\nEnter another key?")
}

// notSaved removes remote name when a refused key was all it had, and
// says what became of it.
func notSaved(name string) string {
	if dropRemote(name) {
		return fmt.Sprintf("Nothing has been saved: run \"rclone config create %s fichier api_key=KEY\" again with a working key.", name)
	}
	return fmt.Sprintf("The key has not been saved; %s: keeps its other settings (set a key with \"rclone config update %s api_key=KEY\").", name, name)
}
