-- wrk script: POST /api/v1/orders with a unique idempotency key and user per request,
-- two items. Non-201 answers are counted by wrk as errors ("Non-2xx or 3xx").
local thread_counter = 0

function setup(thread)
  thread:set("tid", thread_counter)
  thread_counter = thread_counter + 1
end

function init(args)
  math.randomseed(os.time() * 1000 + tid)
  seq = 0
  run = tostring(os.time()) .. "-" .. tostring(math.random(1, 1000000000))
end

local function uuid()
  local t = "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx"
  return (t:gsub("[xy]", function(c)
    local v = (c == "x") and math.random(0, 15) or math.random(8, 11)
    return string.format("%x", v)
  end))
end

request = function()
  seq = seq + 1
  local body = '{"user_id":"' .. uuid() .. '","currency":"EUR","total_amount":26.00,' ..
    '"items":[{"sku_id":"sku-' .. (seq % 50) .. '","quantity":2,"price":12.50},' ..
    '{"sku_id":"sku-gift","quantity":1,"price":1.00}]}'
  local headers = {
    ["Content-Type"] = "application/json",
    ["X-Idempotency-Key"] = "bench-" .. run .. "-" .. tid .. "-" .. seq,
  }
  return wrk.format("POST", "/api/v1/orders", headers, body)
end
