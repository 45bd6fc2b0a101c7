-- wrk script for the pipelined HTTP scenario: every write carries DEPTH requests back to back
-- (default 16; `wrk ... -s bench/pipeline.lua URL -- 8` for another depth), and wrk waits for
-- all DEPTH responses before the next write. wrk counts every response as a request and takes
-- one latency sample per batch. Ends with the same summary line as bench/wrk-report.lua.
init = function(args)
  local depth = tonumber(args[1]) or 16
  local r = {}
  for i = 1, depth do
    r[i] = wrk.format(nil, "/")
  end
  req = table.concat(r)
end

request = function()
  return req
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"p50_us":%.2f,"p99_us":%.2f,"errors":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
