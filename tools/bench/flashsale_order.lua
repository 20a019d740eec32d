-- wrk script for the flash-sale run (tools/bench_flashsale.sh): exactly ORDERS orders in
-- total from USERS users on SKUS SKUs (one unit of one SKU each), split evenly over
-- THREADS threads. Arguments after `--`: ORDERS USERS SKUS THREADS RUN_ID.
-- A thread past its share stops sending (see delay), so no extra order is created by
-- connections still in flight; tools/bench_flashsale.sh stops wrk once the orders are in.
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

function init(args)
  orders = tonumber(args[1])
  users = tonumber(args[2])
  skus = tonumber(args[3])
  threads = tonumber(args[4])
  run = args[5]
  quota = math.floor(orders / threads) + ((tid < orders % threads) and 1 or 0)
  -- wrk 4.1 calls request() once more in the first thread, to verify the script, and
  -- sends nothing for that call.
  if tid == 0 then
    quota = quota + 1
  end
  sent = 0
end

request = function()
  if sent >= quota then
    return wrk.format("GET", "/healthz")
  end
  local n = tid + sent * threads -- global order number, unique over all threads
  sent = sent + 1
  local user = string.format("00000000-0000-4000-8000-%012x", n % users)
  local body = '{"user_id":"' .. user .. '","currency":"EUR","total_amount":10.00,' ..
    '"items":[{"sku_id":"sku-' .. ((n * 7) % skus) .. '","quantity":1,"price":10.00}]}'
  local headers = {
    ["Content-Type"] = "application/json",
    ["X-Idempotency-Key"] = "flash-" .. run .. "-" .. n,
  }
  return wrk.format("POST", "/api/v1/orders", headers, body)
end


-- Past its share a connection waits (longer than any run) instead of sending more, so
-- the latency figures are the creates' alone.
function delay()
  return (sent >= quota) and 600000 or 0
end
