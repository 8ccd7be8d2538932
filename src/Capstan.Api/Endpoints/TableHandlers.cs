namespace Capstan.Api.Endpoints;

using System.Globalization;
using Capstan.Api.Contracts;
using Capstan.Api.Hosting;
using Capstan.Api.Validation;
using Capstan.Core.Coordination;
using Capstan.Core.Model;
using Microsoft.AspNetCore.Http;

/// <summary>Tables of a changefeed: list, one table, move, rebalance, plan, explain; and the timeline.</summary>
internal static class TableHandlers
{
    public const string MoveExample = """{"capture_id": "capture-2", "table_id": 42}""";

    /// <summary>GET /api/v2/changefeeds/{changefeed_id}/tables?offset=&amp;limit= (owner).</summary>
    public static async Task<IResult> ListAsync(HttpContext http, string changefeedId, string? offset, string? limit)
    {
        var scope = RequestScope.Of(http);
        if (ParsePaging(offset, limit, scope.Options.MaxTablesPerPage, out int from, out int count) is { } invalid)
        {
            return Problems.BadRequest(invalid);
        }

        var (_, tables, problem) = await ReadAsync(scope, changefeedId, coordinator => CoordinatorReads.Tables(coordinator, from, count)).ConfigureAwait(false);
        return problem ?? TypedResults.Ok(tables);
    }

    /// <summary>GET /api/v2/changefeeds/{changefeed_id}/tables/{table_id} (owner): the table's set(s).</summary>
    public static async Task<IResult> GetAsync(HttpContext http, string changefeedId, string tableId)
    {
        var scope = RequestScope.Of(http);
        if (ApiValidation.TryParseTableId(tableId, out long table) is { } invalid)
        {
            return Problems.BadRequest(invalid);
        }

        var (_, sets, problem) = await ReadAsync(scope, changefeedId, coordinator => CoordinatorReads.TableSets(coordinator, table)).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        return sets!.Count == 0
            ? Problems.NotFound($"changefeed '{changefeedId}' has no replication set for table {table} (is it in the changefeed's table list?)")
            : TypedResults.Ok(sets[0]);
    }

    /// <summary>POST /api/v2/changefeeds/{changefeed_id}/tables/move_table (owner).</summary>
    public static async Task<IResult> MoveAsync(HttpContext http, string changefeedId)
    {
        var scope = RequestScope.Of(http);
        var (scheduler, problem) = await SchedulerAsync(scope, changefeedId).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        var (body, bodyProblem) = await BodyReader.ReadJsonAsync<MoveTableRequest>(http, scope.Options.MaxBodyBytes, MoveExample).ConfigureAwait(false);
        if (bodyProblem is not null)
        {
            return bodyProblem;
        }

        if ((ApiValidation.CheckId(body!.CaptureId, "capture_id") ?? ApiValidation.CheckTableId(body.TableId)) is { } invalid)
        {
            return Problems.BadRequest(invalid);
        }

        if (!scope.Api.Membership.AliveCaptures.ContainsKey(body.CaptureId!))
        {
            return Problems.BadRequest($"capture not exists: '{body.CaptureId}' is not an alive capture (see GET /api/v2/captures)", "capture-not-found");
        }

        TableId table = body.TableId!.Value;
        CaptureId target = body.CaptureId!;
        var (result, runProblem) = await scope.RunAsync(scheduler!, coordinator => coordinator.MoveTable(table, target)).ConfigureAwait(false);
        return runProblem ?? Accepted(result!, $"/api/v2/changefeeds/{changefeedId}/tables/{table}");
    }

    /// <summary>POST /api/v2/changefeeds/{changefeed_id}/tables/rebalance_table (owner).</summary>
    public static async Task<IResult> RebalanceAsync(HttpContext http, string changefeedId)
    {
        var scope = RequestScope.Of(http);
        var (scheduler, problem) = await SchedulerAsync(scope, changefeedId).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        var (result, runProblem) = await scope.RunAsync(scheduler!, coordinator => coordinator.Rebalance()).ConfigureAwait(false);
        return runProblem ?? Accepted(result!, $"/api/v2/changefeeds/{changefeedId}/tables");
    }

    /// <summary>GET /api/v2/changefeeds/{changefeed_id}/rebalance_plan (owner): what a rebalance would move; changes nothing.</summary>
    public static async Task<IResult> PlanAsync(HttpContext http, string changefeedId)
    {
        var scope = RequestScope.Of(http);
        var (_, plan, problem) = await ReadAsync(scope, changefeedId, CoordinatorReads.Plan).ConfigureAwait(false);
        return problem ?? TypedResults.Ok(plan);
    }

    /// <summary>GET /api/v2/changefeeds/{changefeed_id}/tables/{table_id}/explain (owner).</summary>
    public static async Task<IResult> ExplainAsync(HttpContext http, string changefeedId, string tableId)
    {
        var scope = RequestScope.Of(http);
        if (ApiValidation.TryParseTableId(tableId, out long table) is { } invalid)
        {
            return Problems.BadRequest(invalid);
        }

        var (scheduler, reading, problem) = await ReadAsync(scope, changefeedId, coordinator => CoordinatorReads.Explain(coordinator, table)).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        return TypedResults.Ok(Explanation.Build(scope, scheduler!.Changefeed, table, reading!));
    }

    /// <summary>GET /api/v2/events?since=&amp;limit= (owner): the scheduling timeline.</summary>
    public static IResult Events(HttpContext http, string? since, string? limit)
    {
        var scope = RequestScope.Of(http);
        long after = 0;
        if (since is { Length: > 0 } && !long.TryParse(since, NumberStyles.None, CultureInfo.InvariantCulture, out after))
        {
            return Problems.BadRequest($"since '{ApiValidation.Printable(since)}' must be a non-negative integer (the last sequence seen)");
        }

        int count = 500;
        if (limit is { Length: > 0 } && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out count) || count is < 1 or > 10_000))
        {
            return Problems.BadRequest($"limit '{ApiValidation.Printable(limit)}' must be an integer in 1..10000");
        }

        return TypedResults.Ok(scope.Activity.Since(after, count));
    }

    private static IResult Accepted(CommandResult result, string location) =>
        result.Accepted
            ? TypedResults.Accepted(location, new CommandResultDto(true, result.Reason))
            : Problems.Refused(result.Reason);

    private static async Task<(IChangefeedScheduler? Scheduler, IResult? Problem)> SchedulerAsync(RequestScope scope, string changefeedId)
    {
        var (info, problem) = await scope.ChangefeedAsync(changefeedId).ConfigureAwait(false);
        return problem is not null ? (null, problem) : scope.SchedulerOf(info!.Id);
    }

    /// <summary>Finds the changefeed's scheduler and runs a read on its coordinator; a problem when either fails.</summary>
    private static async Task<(IChangefeedScheduler? Scheduler, T? Value, IResult? Problem)> ReadAsync<T>(
        RequestScope scope, string changefeedId, Func<Coordinator, T> read)
    {
        var (scheduler, problem) = await SchedulerAsync(scope, changefeedId).ConfigureAwait(false);
        if (problem is not null)
        {
            return (null, default, problem);
        }

        var (value, runProblem) = await scope.RunAsync(scheduler!, read).ConfigureAwait(false);
        return (scheduler, value, runProblem);
    }

    private static string? ParsePaging(string? offset, string? limit, int maxLimit, out int from, out int count)
    {
        from = 0;
        count = maxLimit;
        if (offset is { Length: > 0 } && !int.TryParse(offset, NumberStyles.None, CultureInfo.InvariantCulture, out from))
        {
            return $"offset '{ApiValidation.Printable(offset)}' must be a non-negative integer";
        }

        if (limit is { Length: > 0 } && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out count) || count < 1 || count > maxLimit))
        {
            return $"limit '{ApiValidation.Printable(limit)}' must be an integer in 1..{maxLimit}";
        }

        return null;
    }
}
