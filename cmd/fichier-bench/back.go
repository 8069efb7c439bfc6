package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/rclone-fichier/rclone-fichier/fstest/emulator"
)

// backStep is one timed command of the back-to-back scenario.
type backStep struct {
	Name string
	Outcome
}

// backResult is the back-to-back scenario for one binary under one
// listing rule: a copy, then commands run one after the other, as a
// user would type them.
type backResult struct {
	Who    string
	Rule   emulator.ListRule
	Steps  []backStep
	Stats  emulator.Stats // the commands after the copy
	Failed string         // the first step that failed, or ""
	Note   string         // the last error or notice logged by then
}

// runBackToBack copies a small tree, then runs lsf -R, lsf -R, about,
// about, check and (with FUSE) mount --daemon until the mount lists the
// tree, each timed. Every command starts right after the one before, so
// each meets the listing and user/info.cgi clocks the others left.
func (b *bench) runBackToBack(who string, rule emulator.ListRule) {
	br := &backResult{Who: who, Rule: rule}
	defer func() {
		b.mu.Lock()
		b.back = append(b.back, br)
		b.mu.Unlock()
	}()
	dir := filepath.Join(b.work, fmt.Sprintf("emu-back.%s.%s", who, rule))
	e, err := b.startEmulator(dir, rule)
	if err != nil {
		br.Steps = append(br.Steps, backStep{Name: "start", Outcome: Outcome{Status: "failed (" + err.Error() + ")"}})
		return
	}
	defer e.Stop()
	bin := b.binary(who)
	logFile := filepath.Join(dir, "rclone.log")
	step := func(name string, args ...string) {
		ctx, cancel := context.WithTimeout(b.ctx, b.cfg.timeout)
		defer cancel()
		o := runCmd(ctx, b.rcloneCmd(ctx, e, bin, logFile, args...), b.cfg.timeout)
		br.Steps = append(br.Steps, backStep{Name: name, Outcome: o})
		if !o.OK() && br.Failed == "" {
			br.Failed, br.Note = name, lastMessage(logFile)
		}
	}
	step("copy", "copy", b.backSrc, "bench:bench/back")
	_ = e.ClearStats()
	step("lsf -R", "lsf", "-R", "bench:bench/back")
	step("lsf -R", "lsf", "-R", "bench:bench/back")
	step("about", "about", "bench:")
	step("about", "about", "bench:")
	step("check", "check", b.backSrc, "bench:bench/back")
	if b.mountSkip == "" {
		br.Steps = append(br.Steps, backStep{Name: "mount --daemon", Outcome: b.mountDaemon(e, bin, logFile, who, rule)})
	}
	st, err := e.FetchStats()
	if err == nil {
		br.Stats = st
	}
	log.Printf("back.%s.%s: %s", who, rule, br.summary())
}

// summary is the steps' results for the log.
func (br *backResult) summary() string {
	var parts []string
	for _, s := range br.Steps {
		parts = append(parts, fmt.Sprintf("%s %s %.1f s", s.Name, s.Status, s.Wall))
	}
	return strings.Join(parts, ", ")
}

// mountDaemon runs rclone mount --daemon and times it until the mount
// lists the copied tree's folders.
func (b *bench) mountDaemon(e *emu, bin, logFile, who string, rule emulator.ListRule) Outcome {
	mnt := filepath.Join(b.work, fmt.Sprintf("mnt-back.%s.%s", who, rule))
	_ = os.MkdirAll(mnt, 0o755)
	defer unmount(mnt)
	ctx, cancel := context.WithTimeout(b.ctx, b.cfg.timeout)
	defer cancel()
	start := time.Now()
	// No pipes: the daemon would hold them open after its parent exits.
	cmd := b.rcloneCmd(ctx, e, bin, logFile, "mount", "--daemon", "--read-only", "bench:bench/back", mnt)
	if err := cmd.Run(); err != nil {
		return Outcome{Status: statusOf(ctx, err, b.cfg.timeout), Wall: time.Since(start).Seconds()}
	}
	for ctx.Err() == nil {
		if entries, err := os.ReadDir(mnt); err == nil && len(entries) > 0 {
			return Outcome{Status: "ok", Wall: time.Since(start).Seconds()}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return Outcome{Status: "did not finish in " + fmtDuration(b.cfg.timeout), Wall: time.Since(start).Seconds()}
}

// curlResult is the curl baseline: the HTTP requests of an upload and a
// download of the big file, made by curl through the same proxy.
type curlResult struct {
	Up, Down Outcome
	Stats    emulator.Stats
}

// runCurl measures the curl baseline on a fresh emulator.
func (b *bench) runCurl() {
	if b.curlSkip != "" {
		return
	}
	log.Printf("curl: upload and download of %d MiB", b.cfg.bigMB)
	cr := &curlResult{}
	e, err := b.startEmulator(filepath.Join(b.work, "emu-curl"), emulator.ListRuleFolder)
	if err != nil {
		cr.Up.Status = "failed (" + err.Error() + ")"
		b.curl = cr
		return
	}
	defer e.Stop()
	_ = e.ClearStats()
	ctx, cancel := context.WithTimeout(b.ctx, b.cfg.timeoutBig)
	defer cancel()
	c := curler{ctx: ctx, e: e}
	start := time.Now()
	link, err := c.upload(b.big)
	cr.Up = Outcome{Status: curlStatus(ctx, err, b.cfg.timeoutBig), Wall: time.Since(start).Seconds()}
	// A small upload makes its three calls within one second: wait, as a
	// client keeping to 3 calls/s would, before the fourth (not timed).
	time.Sleep(1100 * time.Millisecond)
	if err == nil {
		start = time.Now()
		err = c.download(link)
		cr.Down = Outcome{Status: curlStatus(ctx, err, b.cfg.timeoutBig), Wall: time.Since(start).Seconds()}
	}
	cr.Stats, _ = e.FetchStats()
	b.curl = cr
	log.Printf("curl: upload %.1f s, download %.1f s", cr.Up.Wall, cr.Down.Wall)
}

// curlStatus is the report's result words for a curl sequence.
func curlStatus(ctx context.Context, err error, limit time.Duration) string {
	if err != nil && ctx.Err() == nil {
		return "failed (" + err.Error() + ")"
	}
	return statusOf(ctx, err, limit)
}

// curler runs curl through an emulator's proxy.
type curler struct {
	ctx context.Context
	e   *emu
}

// run runs curl with args and returns its output.
func (c curler) run(args ...string) ([]byte, error) {
	full := append([]string{"-fsS", "--proxy", "http://" + c.e.Proxy, "--cacert", c.e.CA}, args...)
	cmd := exec.CommandContext(c.ctx, "curl", full...)
	cmd.WaitDelay = waitDelay
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok {
		err = fmt.Errorf("curl %s: %v: %s", args[len(args)-1], err, strings.TrimSpace(string(ee.Stderr)))
	}
	return out, err
}

// api calls an API endpoint with body and decodes the answer into v.
func (c curler) api(endpoint, body string, v any) error {
	args := []string{"-H", "Authorization: Bearer " + benchKey, "-H", "Content-Type: application/json"}
	if body != "" {
		args = append(args, "-d", body)
	}
	out, err := c.run(append(args, "https://api.1fichier.com/v1/"+endpoint)...)
	if err != nil {
		return err
	}
	return json.Unmarshal(out, v)
}

// upload sends file as the API documents it and returns its link.
func (c curler) upload(file string) (string, error) {
	var node struct{ URL, ID string }
	if err := c.api("upload/get_upload_server.cgi", "", &node); err != nil {
		return "", err
	}
	if _, err := c.run("-H", "Authorization: Bearer "+benchKey, "-F", "file[]=@"+file+";filename=big.bin",
		"-o", "/dev/null", "https://"+node.URL+"/upload.cgi?id="+node.ID); err != nil {
		return "", err
	}
	out, err := c.run("-H", "JSON: 1", "https://"+node.URL+"/end.pl?xid="+node.ID)
	if err != nil {
		return "", err
	}
	var end struct {
		Links []struct{ Download string } `json:"links"`
	}
	if err := json.Unmarshal(out, &end); err != nil || len(end.Links) == 0 {
		return "", fmt.Errorf("end.pl gave no link: %s", out)
	}
	return end.Links[0].Download, nil
}

// download gets a token for link and fetches the file.
func (c curler) download(link string) error {
	var tok struct{ URL string }
	body, _ := json.Marshal(map[string]string{"url": link})
	if err := c.api("download/get_token.cgi", string(body), &tok); err != nil {
		return err
	}
	_, err := c.run("-o", "/dev/null", tok.URL)
	return err
}
