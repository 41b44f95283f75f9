-- wrk script: sign-in attempts with wrong passwords at random unknown usernames (each one
-- still runs argon2, so that timing does not tell which usernames exist).
request = function()
  return wrk.format("POST", "/api/v1/sessions", {["Content-Type"] = "application/json"},
    '{"username":"nobody_' .. math.random(1, 100000) .. '","password":"wrong password"}')
end
done = function(summary, latency, requests)
  io.write(string.format("attempts %d, p50 %.0f ms, p99 %.0f ms\n", summary.requests,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
