-- wrk script for the HTTP keep-alive scenarios: plain GET / requests (wrk's static request, no
-- Lua per request), and one machine-readable summary line for bench/load.ts.
-- Latency is microseconds; errors add up connect/read/write/timeout errors and non-2xx/3xx
-- responses.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"p50_us":%.2f,"p99_us":%.2f,"errors":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
