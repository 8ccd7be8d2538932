namespace Capstan.Api.Endpoints;

using Capstan.Api.Contracts;
using Capstan.Api.Hosting;
using Capstan.Api.Validation;
using Capstan.Core.Coordination;
using Capstan.Core.Member;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Microsoft.AspNetCore.Http;

/// <summary>Captures, owner, health, drain and resign.</summary>
internal static class ClusterHandlers
{
    /// <summary>GET /api/v2/health and /api/v2/status: answered by this capture, never forwarded.</summary>
    public static async Task<IResult> HealthAsync(HttpContext http)
    {
        var scope = RequestScope.Of(http);
        var owner = await scope.Api.Election.GetOwnerAsync(scope.Aborted).ConfigureAwait(false);
        var changefeeds = await scope.Api.Metadata.ListChangefeedsAsync(scope.Aborted).ConfigureAwait(false);
        bool isOwner = owner is not null && scope.Api.IsLocal(owner.Capture);
        return TypedResults.Ok(new HealthDto(
            owner is null ? "degraded" : "ok", scope.Api.Self.Value, isOwner, owner?.Capture.Value ?? string.Empty, scope.Api.Version,
            scope.Api.Membership.AliveCaptures.Count, changefeeds.Count));
    }

    /// <summary>GET /api/v2/owner: any capture knows the owner.</summary>
    public static async Task<IResult> OwnerAsync(HttpContext http)
    {
        var scope = RequestScope.Of(http);
        var owner = await scope.Api.Election.GetOwnerAsync(scope.Aborted).ConfigureAwait(false);
        if (owner is null)
        {
            return Problems.Unavailable("no owner is elected right now (an election is in progress); retry in a few seconds");
        }

        string address = scope.Api.Membership.AliveCaptures.TryGetValue(owner.Capture, out var info) ? info.Address : string.Empty;
        return TypedResults.Ok(new OwnerDto(owner.Capture.Value, address, owner.Revision.Value));
    }

    /// <summary>GET /api/v2/captures (owner): membership joined with every coordinator's view.</summary>
    public static async Task<IResult> ListCapturesAsync(HttpContext http)
    {
        var scope = RequestScope.Of(http);
        var facts = await CaptureFactsAsync(scope).ConfigureAwait(false);
        if (facts.Problem is { } problem)
        {
            return problem;
        }

        var owner = scope.Owner.Owner;
        var alive = new List<CaptureInfo>(scope.Api.Membership.AliveCaptures.Values);
        alive.Sort(static (a, b) => a.Id.CompareTo(b.Id));
        var result = new List<CaptureDto>(alive.Count);
        foreach (var capture in alive)
        {
            var state = facts.States.GetValueOrDefault(capture.Id, "unknown");
            var liveness = scope.Api.LocalLiveness(capture.Id) ?? (state == "stopping" ? Liveness.Stopping : Liveness.Alive);
            result.Add(new CaptureDto(
                capture.Id.Value, capture.Address, capture.Id == owner, liveness == Liveness.Stopping ? "stopping" : "alive", state,
                facts.Primaries.GetValueOrDefault(capture.Id), capture.Version));
        }

        return TypedResults.Ok(result);
    }

    /// <summary>POST /api/v2/captures/{capture_id}/drain (owner): TiCDC's checks, then one drain call per changefeed.</summary>
    public static async Task<IResult> DrainAsync(HttpContext http, string captureId)
    {
        var scope = RequestScope.Of(http);
        if (ApiValidation.CheckId(captureId, "capture_id") is { } invalid)
        {
            return Problems.BadRequest(invalid);
        }

        var alive = scope.Api.Membership.AliveCaptures;
        if (alive.Count <= 1)
        {
            return Problems.Refused("scheduler request failed, only one capture alive: start another capture before draining");
        }

        if (!alive.ContainsKey(captureId))
        {
            return Problems.BadRequest($"capture not exists: '{captureId}' is not an alive capture (see GET /api/v2/captures)", "capture-not-found");
        }

        if (captureId == scope.Owner.Owner.Value)
        {
            return Problems.Refused($"cannot drain the owner: '{captureId}' is the owner; resign it first (POST /api/v2/owner/resign), then drain it");
        }

        return await DrainEveryChangefeedAsync(scope, captureId).ConfigureAwait(false);
    }

    /// <summary>POST /api/v2/owner/resign (owner): the owner gives up its term; another capture is elected.</summary>
    public static async Task<IResult> ResignAsync(HttpContext http)
    {
        var scope = RequestScope.Of(http);
        var owner = scope.Owner.Owner;
        bool resigned = await scope.Api.ResignOwnerAsync(owner, scope.Aborted).ConfigureAwait(false);
        return resigned
            ? TypedResults.Accepted((string?)null, new CommandResultDto(true, $"owner '{owner}' resigned; a new owner is being elected"))
            : Problems.Unavailable($"'{owner}' is no longer the owner; retry");
    }

    private static async Task<IResult> DrainEveryChangefeedAsync(RequestScope scope, CaptureId target)
    {
        var changefeeds = await scope.Api.Metadata.ListChangefeedsAsync(scope.Aborted).ConfigureAwait(false);
        int total = 0;
        var notes = new List<string>();
        foreach (var changefeed in changefeeds)
        {
            var (scheduler, _) = scope.SchedulerOf(changefeed.Id);
            if (scheduler is null)
            {
                total++; // no scheduler yet: keep the client retrying (TiCDC does the same)
                notes.Add($"{changefeed.Id}: not scheduled yet");
                continue;
            }

            var (result, problem) = await scope.RunAsync(scheduler, coordinator => coordinator.DrainCapture(target)).ConfigureAwait(false);
            if (problem is not null)
            {
                return problem;
            }

            if (result!.Status == DrainStatus.Refused && !result.Reason.StartsWith("not all captures", StringComparison.Ordinal))
            {
                return Problems.Refused($"changefeed {changefeed.Id}: {result.Reason}");
            }

            total += result.RemainingTables;
            notes.Add($"{changefeed.Id}: {result.Reason}");
        }

        string status = total == 0 ? "done" : "draining";
        return TypedResults.Accepted((string?)null, new DrainResponseDto(total, status, string.Join("; ", notes)));
    }

    private static async Task<(Dictionary<CaptureId, string> States, Dictionary<CaptureId, int> Primaries, IResult? Problem)> CaptureFactsAsync(RequestScope scope)
    {
        var states = new Dictionary<CaptureId, string>();
        var primaries = new Dictionary<CaptureId, int>();
        foreach (var scheduler in scope.Schedulers)
        {
            var (facts, problem) = await scope.RunAsync(scheduler, CoordinatorReads.Captures).ConfigureAwait(false);
            if (problem is not null)
            {
                return (states, primaries, problem);
            }

            foreach (var (id, fact) in facts!)
            {
                primaries[id] = primaries.GetValueOrDefault(id) + fact.Primaries;
                string state = fact.State.ToString().ToLowerInvariant();
                // The least advanced view wins: stopping beats uninitialized beats initialized.
                if (!states.TryGetValue(id, out var known) || Rank(state) > Rank(known))
                {
                    states[id] = state;
                }
            }
        }

        return (states, primaries, null);
    }

    private static int Rank(string state) => state switch
    {
        "stopping" => 3,
        "uninitialized" => 2,
        "initialized" => 1,
        _ => 0,
    };
}
