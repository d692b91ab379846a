-- scripts/load-wrk.lua: the request mix of scripts/load-wrk for wrk (an
-- HTTP load generator; Debian's `wrk`, LuaJIT).  Read by each of wrk's
-- threads; scripts/load-wrk passes, after `--`: the file of pre-signed
-- records (one compact JSON envelope a line), the party's token, the
-- public collection's id and the node's root path of TAXII.
--
-- Of every 10 requests a thread sends: 4 record posts (POST /v1/records,
-- each thread cycling through its own share of the records: a record's
-- first post is answered 201, a later one 200 with its index), 3 TAXII
-- pages (objects/?limit=100, from the start or from an added_after), 3
-- queries the web UI makes (the party's inbox, a page of records, its
-- open cases).  Every answer's status is counted; done() prints the
-- counts, and anything not 2xx is an error (none is expected).
local threads = {}
local n_threads = 0

function setup(thread)
  thread:set("tid", n_threads)
  n_threads = n_threads + 1
  table.insert(threads, thread)
end

local records, token, coll, taxii
local seq, rec_i = 0, 0
local sent = {post = 0, taxii = 0, ui = 0}
status = {}

function init(args)
  local file = args[1]
  token, coll, taxii = args[2], args[3], args[4]
  records = {}
  local i = 0
  local nt = tonumber(args[5]) or 1
  for line in io.lines(file) do
    if i % nt == tid then records[#records + 1] = line end
    i = i + 1
  end
  rec_i = 0
end

local auth = nil
local months = {"01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12"}

function request()
  seq = seq + 1
  local k = seq % 10
  auth = auth or {["Authorization"] = "Token " .. token}
  if k < 4 then
    rec_i = rec_i % #records + 1
    sent.post = sent.post + 1
    return wrk.format("POST", "/v1/records",
      {["Authorization"] = "Token " .. token, ["Content-Type"] = "application/json"},
      records[rec_i])
  elseif k < 7 then
    sent.taxii = sent.taxii + 1
    local path = taxii .. "collections/" .. coll .. "/objects/?limit=100"
    if k ~= 4 then
      path = path .. "&added_after=2024-" .. months[(seq % 12) + 1] .. "-01T00:00:00Z"
    end
    return wrk.format("GET", path, {["Accept"] = "application/taxii+json;version=2.1"})
  else
    sent.ui = sent.ui + 1
    local path = ({[7] = "/v1/framework/inbox?limit=50", [8] = "/v1/records?limit=50",
                   [9] = "/v1/framework/cases"})[k]
    return wrk.format("GET", path, auth)
  end
end

function response(st, headers, body)
  status[st] = (status[st] or 0) + 1
end

function done(summary, latency, requests)
  local all = {}
  for _, t in ipairs(threads) do
    local s = t:get("status")
    for code, n in pairs(s) do all[code] = (all[code] or 0) + n end
  end
  local bad = 0
  io.write("answers by status:")
  for code, n in pairs(all) do
    io.write(string.format(" %d:%d", code, n))
    if code < 200 or code > 299 then bad = bad + n end
  end
  io.write("\n")
  io.write(string.format("non-2xx answers: %d; socket errors: connect %d, read %d, write %d, timeout %d\n",
    bad, summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout))
  for _, p in ipairs({50, 90, 99, 99.9}) do
    io.write(string.format("latency p%s: %.2f ms\n", p, latency:percentile(p) / 1000))
  end
end
