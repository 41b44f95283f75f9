-- wrk script: POST /api/v1/statuses as the member whose token is in $TOKEN.
local n = 0
request = function()
  n = n + 1
  local body = '{"text":"load post ' .. n .. ' ' .. math.random(1, 1000000000) .. '"}'
  return wrk.format("POST", "/api/v1/statuses",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. os.getenv("TOKEN")}, body)
end
done = function(summary, latency, requests)
  io.write(string.format("posts %d, non-2xx %d, p50 %.1f ms, p99 %.1f ms\n", summary.requests,
    summary.errors.status, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
