-- wrk's script for bench/run.ts: one endpoint per run, requests varied as the autocannon ones were
-- (random ids and offsets, a unique valid ISBN per create), the figures printed as one JSON line.
-- wrk -s bench/wrk.lua URL -- <endpoint> <books> <page> <stem> <token>
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local endpoint, books, page, stem, token

function init(args)
  endpoint, books, page, stem, token = args[1], tonumber(args[2]), tonumber(args[3]), tonumber(args[4]), args[5]
  stem = stem + tid * 5000000
  math.randomseed(os.time() * 1000 + tid + stem)
end

local function isbn(n)
  local digits = string.format("%012d", 978000000000 + n)
  local sum = 0
  for i = 1, 12 do
    local d = string.byte(digits, i) - 48
    sum = sum + (i % 2 == 1 and d or d * 3)
  end
  return digits .. tostring((10 - sum % 10) % 10)
end

function request()
  if endpoint == "retrieve" then
    return wrk.format("GET", "/api/books/" .. math.random(1, books) .. "/")
  elseif endpoint == "list" then
    if page == 0 then return wrk.format("GET", "/api/books/") end
    return wrk.format("GET", "/api/books/?limit=" .. page .. "&offset=" .. math.random(0, books - page - 1))
  else
    stem = stem + 1
    local body = '{"title":"A benchmark book","subtitle":"Measured","author":"Author ' .. (1 + stem % 500) .. '","isbn":"' .. isbn(stem) .. '"}'
    return wrk.format("POST", "/api/books/", { ["content-type"] = "application/json", ["authorization"] = "Token " .. token }, body)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"duration_us":%d,"errors":%d,"non2xx":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status, latency:percentile(99)))
end
