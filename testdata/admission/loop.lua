-- A policy that never returns for a real request, for testing the policy
-- timeout and the circuit breaker. It returns a result for the built-in
-- sample request, whose workload is named "sample", so that startup accepts it.
function decide(request)
  if request.name == "sample" then
    return { removable = 0 }
  end
  while true do
  end
end
