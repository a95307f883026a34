-- ussd.lua - wrk script: full USSD complaint sessions over Africa's Talking.
--
-- Every request is one step of one session; no request is repeated. Sessions
-- walk the complaint path recorded by prepare.mjs (steps.lua: the inputs and
-- the exact screen of every step). Each session has a unique sessionId
-- (thread, run salt, counter), its own phone number and its own NIK: the
-- recorded NIK with its masked middle (kecamatan code and birth date) made
-- from the session's thread, salt and counter, so the screens stay the
-- recorded ones (the summary shows only the first and last 4 digits) while the
-- tickets are not all duplicates of one resident's, as real complaints are not.
--
-- wrk gives a script no connection identity (request()/response() do not say
-- which connection they are for). Three modes:
--   interleave (default): each thread keeps a ring of RING sessions (16 per
--     connection); every request() sends the next step of the next session in
--     the ring, so consecutive requests on a connection belong to different
--     sessions, every request is one step, and a session's next step is sent
--     only after hundreds of other requests - long after its previous step was
--     answered (a violation would show as an unexpected screen and fail the
--     run). wrk's latency is then per step, like real USSD traffic.
--   pipeline (default): request() returns the whole session as pipelined
--     HTTP/1.1 requests on one connection. The server answers a connection's
--     requests strictly in order, so each connection runs its sessions one
--     after another, each step sent behind the previous one. wrk's latency is
--     then per session (all its steps).
--   step: one step per request(); only valid with one connection per thread
--     (wrk -t N -c N), where the thread's state is the connection's. wrk's
--     latency is then per step.
-- Every answer is checked against the recorded screens: a final "END ..."
-- screen with a ticket number counts as a completed ticket, anything
-- unexpected counts as bad (run.sh fails the run when bad > 0).
--
-- Arguments (after --): STEPS_FILE MODE(pipeline|step) SALT(10-99) [novalidate]

local threads = {}

function setup(thread)
	table.insert(threads, thread)
	thread:set("tid", #threads)
	thread:set("conns", tostring(math.ceil(tonumber(os.getenv("BENCH_CONNECTIONS") or "64") /
		tonumber(os.getenv("BENCH_THREADS") or "2"))))
end

local S, mode, salt, validate
local expected = {}
local bodies_tail = {} -- per step: the url-encoded "&text=..." part up to the NIK
local bodies_rest = {} -- per step: the part after the NIK (nil: the NIK is not in it)
local nik_head, nik_tail -- the recorded NIK's first and last 4 digits
local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
local counter = 0
local step = 0 -- step mode: next step of the current session
local sid, phone, nik

tickets = 0
bad = 0
responses = 0
bad_sample = ""

local function urlencode(s)
	return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function init(args)
	S = dofile(args[1])
	mode = args[2] or "pipeline"
	salt = tonumber(args[3] or "10")
	validate = args[4] ~= "novalidate"
	tid = wrk.thread:get("tid") or 1
	local nik_at -- the input that is the NIK
	for i, v in ipairs(S.inputs) do
		if v:match("^%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d$") then nik_at = i end
	end
	if nik_at then nik_head, nik_tail = S.inputs[nik_at]:sub(1, 4), S.inputs[nik_at]:sub(13, 16) end
	local hist = {}
	for i = 0, #S.inputs do
		if nik_at and i >= nik_at then
			-- the text is "a*b*...*NIK*...": split it around the NIK
			local before = table.concat(hist, "*", 1, nik_at - 1)
			local after = table.concat(hist, "*", nik_at + 1, #hist)
			bodies_tail[i] = "&networkCode=51010&text=" .. urlencode(before .. (nik_at > 1 and "*" or ""))
			bodies_rest[i] = urlencode((#hist > nik_at and "*" or "") .. after)
		else
			bodies_tail[i] = "&networkCode=51010&text=" .. urlencode(table.concat(hist, "*"))
		end
		if i < #S.inputs then hist[#hist + 1] = S.inputs[i + 1] end
	end
	for i = 1, #S.screens - 1 do expected[S.screens[i]] = true end
end

local function new_session()
	counter = counter + 1
	sid = string.format("bench-%d-%d-%d", salt, tid, counter)
	-- +62 813 SS TT CCCCCC (15 digits, the E.164 maximum): unique per run salt,
	-- thread (up to 99) and counter (up to a million sessions per thread and run)
	phone = string.format("%%2B62813%02d%02d%06d", salt % 100, tid % 100, counter % 1000000)
	-- kecamatan code 01-99 from the salt and thread; birth date DDMMYY from the
	-- counter (day 01-28, so valid in every month): 33,600 NIKs per thread and
	-- run before one repeats (a repeat is filed as a duplicate, as it would be)
	if nik_head then
		local c = counter % 33600
		nik = string.format("%s%02d%02d%02d%02d%s", nik_head, 1 + (salt * 7 + tid) % 99,
			1 + math.floor(c / 1200), 1 + math.floor(c / 100) % 12, c % 100, nik_tail)
	end
end

local function step_request(i)
	local body = "sessionId=" .. sid .. "&serviceCode=%2A123%2A17%23&phoneNumber=" .. phone .. bodies_tail[i]
	if bodies_rest[i] then body = body .. nik .. bodies_rest[i] end
	return wrk.format("POST", nil, headers, body)
end

local verified = false

local ring = {} -- interleave: { sid, phone, step } per slot
local ring_pos = 0

local function interleave_request()
	if #ring == 0 then
		local conns = tonumber(wrk.thread:get("conns") or "32")
		for i = 1, conns * 16 do
			new_session()
			ring[i] = { sid = sid, phone = phone, nik = nik, step = 0 }
		end
	end
	ring_pos = ring_pos % #ring + 1
	local slot = ring[ring_pos]
	if slot.step > #S.inputs then
		new_session()
		slot.sid, slot.phone, slot.nik, slot.step = sid, phone, nik, 0
	end
	sid, phone, nik = slot.sid, slot.phone, slot.nik
	local r = step_request(slot.step)
	slot.step = slot.step + 1
	return r
end

function request()
	if mode == "interleave" then
		-- wrk's check call on thread 1 is never sent: give it a throwaway session
		if tid == 1 and not verified then
			verified = true
			local s, p, n = sid, phone, nik
			new_session()
			local r = step_request(0)
			sid, phone, nik = s, p, n
			return r
		end
		return interleave_request()
	end
	if mode == "step" then
		-- wrk calls request() once on the first thread before the run to check
		-- the script (that request is never sent): answer it with the dial of a
		-- throwaway session so the real sessions start at their first step
		if tid == 1 and not verified then
			verified = true
			local s, p, n = sid, phone, nik
			new_session()
			local r = step_request(0)
			sid, phone, nik = s, p, n
			return r
		end
		if step == 0 then new_session() end
		local r = step_request(step)
		step = step + 1
		if step > #S.inputs then step = 0 end
		return r
	end
	new_session()
	local parts = {}
	for i = 0, #S.inputs do parts[#parts + 1] = step_request(i) end
	return table.concat(parts)
end

function response(status, hdrs, body)
	responses = responses + 1
	if not validate then return end
	if status == 200 then
		if expected[body] then return end
		if body:sub(1, 4) == "END " and body:find("%d%d%d%d%-%d%d%d%d") then
			tickets = tickets + 1
			return
		end
	end
	bad = bad + 1
	if bad_sample == "" then bad_sample = status .. " " .. body:gsub("\n", "\\n") end
end

function done(summary, latency, requests)
	local t, b, r, sample = 0, 0, 0, ""
	for _, th in ipairs(threads) do
		t = t + (th:get("tickets") or 0)
		b = b + (th:get("bad") or 0)
		r = r + (th:get("responses") or 0)
		local s = th:get("bad_sample")
		if sample == "" and s and s ~= "" then sample = s end
	end
	local e = summary.errors
	io.write(string.format(
		"BENCH_RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d tickets=%d bad=%d responses=%d " ..
		"err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d\n",
		summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), t, b, r,
		e.connect, e.read, e.write, e.status, e.timeout))
	if sample ~= "" then io.write("BENCH_BAD_SAMPLE " .. sample .. "\n") end
end
