-- wrk script: each request PUTs a new contact (a fresh id), so every one is
-- a durable single write that takes a seq. Used by bench/scale_out_bench.sh:
--   wrk -s bench/put_contacts.lua -H "Authorization: Bearer ..." \
--       http://HOST:PORT/v1/domains/D/contacts/ -- TAG
-- TAG keeps the ids of concurrent wrk runs apart; each wrk thread adds its
-- own (the address of a table of its Lua state).
local prefix, n

function init(args)
  prefix = (args[1] or "w") .. "-" .. (tostring({}):gsub("table: 0x", ""))
  n = 0
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  n = n + 1
  -- nil headers: wrk's own, i.e. those of -H and the Content-Type above
  return wrk.format("PUT", wrk.path .. prefix .. "-" .. n, nil,
                    '{"name":{"given":"Load","family":"Test ' .. n .. '"}}')
end
