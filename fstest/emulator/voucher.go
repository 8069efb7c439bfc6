package emulator

import (
	"fmt"
	"net/http"
	"regexp"
	"time"
)

// The vouchers/*.cgi endpoints. Only SW describes them [para SW only]:
//
//	vouchers/ls.cgi                          -> {status,count,data:[{voucher,service}]}
//	vouchers/check.cgi {voucher}             -> {status,service}
//	vouchers/use.cgi   {voucher,user_email}  -> {status,message}
//
// 1fichier-ts calls them, so they answer rather than 404. Nothing says
// what a voucher does once used, so using one only marks it used; no
// account changes. No rate rule is documented for them: they count
// under the per-key CallsPerSecond rule like every /v1 call, and in
// Stats under their own names. Error texts and numbers are ours.

// voucherMeta is one voucher, held by the account that bought it.
type voucherMeta struct {
	Code    string    `json:"code"`
	Service string    `json:"service"`
	Owner   string    `json:"owner"` // holder's email
	Created time.Time `json:"created"`
	UsedBy  string    `json:"used_by,omitempty"` // user_email it was used for
	Used    time.Time `json:"used,omitempty"`
}

// voucherCode is SW's form of a voucher: 32 characters. Their alphabet
// is not given; we make lowercase alphanumerics and accept either case.
var voucherCode = regexp.MustCompile(`^[A-Za-z0-9]{32}$`)

var (
	errVoucherNotFound = ko(http.StatusNotFound, "Voucher not found #741")
	errVoucherUsed     = ko(http.StatusBadRequest, "Voucher already used #742")
	errVoucherUser     = ko(http.StatusNotFound, "Unknown user_email #743")
)

// ---------------------------------------------------------------------
// vouchers/ls.cgi

type voucherEntry struct {
	Voucher string `json:"voucher"`
	Service string `json:"service"`
}

type voucherLsResp struct {
	Status string         `json:"status"`
	Count  int            `json:"count"`
	Data   []voucherEntry `json:"data"`
}

// voucherLs lists the caller's unused vouchers, oldest first.
func (c *call) voucherLs() (any, *apiError) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	var mine []*voucherMeta
	for _, v := range c.s.st.Vouchers {
		if v.Owner == c.owner() && v.Used.IsZero() {
			mine = append(mine, v)
		}
	}
	sortOldestFirst(mine, func(v *voucherMeta) (time.Time, string) { return v.Created, v.Code })
	resp := voucherLsResp{Status: "OK", Data: []voucherEntry{}}
	for _, v := range mine {
		resp.Data = append(resp.Data, voucherEntry{Voucher: v.Code, Service: v.Service})
	}
	resp.Count = len(resp.Data)
	return resp, nil
}

// ---------------------------------------------------------------------
// vouchers/check.cgi

type voucherCheckResp struct {
	Status  string `json:"status"`
	Service string `json:"service"`
}

// voucherCheck tells the service of an unused voucher. Any caller may
// check any code (assumed: the code itself is the secret, as with a
// gift card).
func (c *call) voucherCheck() (any, *apiError) {
	var req struct {
		Voucher string `json:"voucher"`
	}
	return c.withVoucher(&req, &req.Voucher, func(v *voucherMeta) (any, *apiError) {
		return voucherCheckResp{Status: "OK", Service: v.Service}, nil
	})
}

// withVoucher decodes req, whose voucher parameter lands in *code, and
// answers with do on that unused voucher (c.s.mu held while do runs).
func (c *call) withVoucher(req any, code *string, do func(*voucherMeta) (any, *apiError)) (any, *apiError) {
	if e := c.decode(req); e != nil {
		return nil, e
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	v, e := c.unusedVoucher(*code)
	if e != nil {
		return nil, e
	}
	return do(v)
}

// unusedVoucher finds the voucher with code (c.s.mu held).
func (c *call) unusedVoucher(code string) (*voucherMeta, *apiError) {
	if code == "" {
		return nil, errMissingParam("voucher")
	}
	if !voucherCode.MatchString(code) {
		return nil, errBadParam("voucher")
	}
	v := c.s.st.Vouchers[code]
	if v == nil {
		return nil, errVoucherNotFound
	}
	if !v.Used.IsZero() {
		return nil, errVoucherUsed
	}
	return v, nil
}

// ---------------------------------------------------------------------
// vouchers/use.cgi

// voucherUse spends a voucher for the account user_email, which must be
// one of the emulator's accounts. Like check, any caller holding the
// code may use it (assumed).
func (c *call) voucherUse() (any, *apiError) {
	var req struct {
		Voucher   string `json:"voucher"`
		UserEmail string `json:"user_email"`
	}
	return c.withVoucher(&req, &req.Voucher, func(v *voucherMeta) (any, *apiError) {
		if req.UserEmail == "" {
			return nil, errMissingParam("user_email")
		}
		user := c.s.accountByEmail(req.UserEmail)
		if user == nil {
			return nil, errVoucherUser
		}
		v.UsedBy = user.Email
		v.Used = c.now
		c.s.changed()
		return statusBody{Status: "OK", Message: fmt.Sprintf("Voucher used for %s", user.Email)}, nil
	})
}

// newVoucherCode returns a fresh 32-character code (s.mu held).
func (s *Server) newVoucherCode() string {
	for {
		code := s.randString(32, lowerAlnum)
		if _, used := s.st.Vouchers[code]; !used {
			return code
		}
	}
}

// ---------------------------------------------------------------------
// Fixture helpers (see fixture.go)

// AddVoucher gives key's account an unused voucher for service (free
// text, e.g. "Premium 1 month") and returns its code.
func (s *Server) AddVoucher(key, service string) (string, error) {
	a, err := s.accountByKey(key)
	if err != nil {
		return "", err
	}
	if service == "" {
		return "", fmt.Errorf("emulator: a voucher needs a service")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v := &voucherMeta{Code: s.newVoucherCode(), Service: service, Owner: a.Email, Created: s.now()}
	s.st.Vouchers[v.Code] = v
	s.changed()
	return v.Code, nil
}

// VoucherUsedBy returns the e-mail the voucher code was used for, "" if
// it is still unused.
func (s *Server) VoucherUsedBy(code string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.st.Vouchers[code]
	if v == nil {
		return "", fmt.Errorf("emulator: no voucher %q", code)
	}
	return v.UsedBy, nil
}
