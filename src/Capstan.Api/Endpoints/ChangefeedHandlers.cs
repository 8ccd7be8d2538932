namespace Capstan.Api.Endpoints;

using System.Globalization;
using Capstan.Api.Contracts;
using Capstan.Api.Validation;
using Capstan.Core.Model;
using Capstan.Runtime.Metadata;
using Microsoft.AspNetCore.Http;

/// <summary>Changefeed definitions: create, list, query, remove, add and drop tables.</summary>
internal static class ChangefeedHandlers
{
    public const string CreateExample = """{"changefeed_id": "orders", "table_ids": [1, 2, 3]}""";
    public const string TablesExample = """{"table_ids": [4, 5]}""";

    /// <summary>POST /api/v2/changefeeds (owner).</summary>
    public static async Task<IResult> CreateAsync(HttpContext http)
    {
        var scope = RequestScope.Of(http);
        var (body, problem) = await BodyReader.ReadJsonAsync<CreateChangefeedRequest>(http, scope.Options.MaxBodyBytes, CreateExample).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        if ((ApiValidation.CheckId(body!.ChangefeedId, "changefeed_id") ?? ApiValidation.CheckTableIds(body.TableIds, allowEmpty: false)) is { } invalid)
        {
            return Problems.BadRequest(invalid);
        }

        if (await scope.Api.Metadata.GetChangefeedAsync(body.ChangefeedId!, scope.Aborted).ConfigureAwait(false) is not null)
        {
            return Problems.Conflict($"changefeed '{body.ChangefeedId}' already exists; pick another id or remove it first");
        }

        var tables = ToTables(body.TableIds!);
        var info = new ChangefeedInfo
        {
            Id = body.ChangefeedId!,
            Tables = tables,
            StartTs = scope.Api.Clock.Now(),
            Epoch = new ChangefeedEpoch(scope.Api.Clock.Next().Value),
        };
        await scope.Api.Metadata.PutChangefeedAsync(info, scope.Aborted).ConfigureAwait(false);
        var dto = await DescribeAsync(scope, info, detail: true).ConfigureAwait(false);
        return TypedResults.Created($"/api/v2/changefeeds/{info.Id}", dto);
    }

    /// <summary>GET /api/v2/changefeeds (owner).</summary>
    public static async Task<IResult> ListAsync(HttpContext http)
    {
        var scope = RequestScope.Of(http);
        var list = new List<ChangefeedInfo>(await scope.Api.Metadata.ListChangefeedsAsync(scope.Aborted).ConfigureAwait(false));
        list.Sort(static (a, b) => string.CompareOrdinal(a.Id.Value, b.Id.Value));
        var result = new List<ChangefeedDto>(list.Count);
        foreach (var info in list)
        {
            result.Add(await DescribeAsync(scope, info, detail: false).ConfigureAwait(false));
        }

        return TypedResults.Ok(result);
    }

    /// <summary>GET /api/v2/changefeeds/{changefeed_id} (owner).</summary>
    public static async Task<IResult> GetAsync(HttpContext http, string changefeedId)
    {
        var scope = RequestScope.Of(http);
        var (info, problem) = await scope.ChangefeedAsync(changefeedId).ConfigureAwait(false);
        return problem ?? TypedResults.Ok(await DescribeAsync(scope, info!, detail: true).ConfigureAwait(false));
    }

    /// <summary>DELETE /api/v2/changefeeds/{changefeed_id} (owner).</summary>
    public static async Task<IResult> RemoveAsync(HttpContext http, string changefeedId)
    {
        var scope = RequestScope.Of(http);
        var (info, problem) = await scope.ChangefeedAsync(changefeedId).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        await scope.Api.Metadata.RemoveChangefeedAsync(info!.Id, scope.Aborted).ConfigureAwait(false);
        return TypedResults.Ok(new CommandResultDto(true, $"changefeed '{info.Id}' removed; its tables stop replicating"));
    }

    /// <summary>POST /api/v2/changefeeds/{changefeed_id}/tables/add (owner).</summary>
    public static Task<IResult> AddTablesAsync(HttpContext http, string changefeedId) => ChangeTablesAsync(http, changefeedId, add: true);

    /// <summary>POST /api/v2/changefeeds/{changefeed_id}/tables/drop (owner).</summary>
    public static Task<IResult> DropTablesAsync(HttpContext http, string changefeedId) => ChangeTablesAsync(http, changefeedId, add: false);

    private static async Task<IResult> ChangeTablesAsync(HttpContext http, string changefeedId, bool add)
    {
        var scope = RequestScope.Of(http);
        var (info, problem) = await scope.ChangefeedAsync(changefeedId).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        var (body, bodyProblem) = await BodyReader.ReadJsonAsync<TablesRequest>(http, scope.Options.MaxBodyBytes, TablesExample).ConfigureAwait(false);
        if (bodyProblem is not null)
        {
            return bodyProblem;
        }

        if (ApiValidation.CheckTableIds(body!.TableIds, allowEmpty: false) is { } invalid)
        {
            return Problems.BadRequest(invalid);
        }

        var current = new HashSet<TableId>(info!.Tables);
        foreach (long table in body.TableIds!)
        {
            if (add && current.Contains(table))
            {
                return Problems.BadRequest($"table {table} is already replicated by changefeed '{info.Id}'", "table-exists");
            }

            if (!add && !current.Contains(table))
            {
                return Problems.BadRequest($"table {table} is not replicated by changefeed '{info.Id}'", "table-not-found");
            }
        }

        var tables = new List<TableId>(info.Tables);
        if (add)
        {
            tables.AddRange(ToTables(body.TableIds!));
        }
        else
        {
            var dropped = new HashSet<TableId>(ToTables(body.TableIds!));
            tables.RemoveAll(dropped.Contains);
        }

        await scope.Api.Metadata.PutChangefeedAsync(info with { Tables = tables }, scope.Aborted).ConfigureAwait(false);
        string verb = add ? "added to" : "dropped from";
        return TypedResults.Accepted($"/api/v2/changefeeds/{info.Id}/tables",
            new CommandResultDto(true, $"{body.TableIds!.Length} table(s) {verb} changefeed '{info.Id}'; follow them with GET /api/v2/changefeeds/{info.Id}/tables"));
    }

    private static async Task<ChangefeedDto> DescribeAsync(RequestScope scope, ChangefeedInfo info, bool detail)
    {
        var status = await scope.Api.Metadata.GetStatusAsync(info.Id, scope.Aborted).ConfigureAwait(false);
        var checkpoint = status?.CheckpointTs ?? info.StartTs;
        var resolved = status?.ResolvedTs ?? info.StartTs;
        bool scheduled = scope.SchedulerOf(info.Id).Scheduler is not null;
        long lag = checkpoint.Value == 0 ? 0 : Math.Max(0, scope.Api.Clock.NowMilliseconds - checkpoint.PhysicalMilliseconds);
        string time = DateTimeOffset.FromUnixTimeMilliseconds(checkpoint.PhysicalMilliseconds).UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
        long[]? tableIds = null;
        if (detail)
        {
            tableIds = new long[info.Tables.Count];
            for (int i = 0; i < tableIds.Length; i++)
            {
                tableIds[i] = info.Tables[i].Value;
            }
        }

        return new ChangefeedDto(info.Id.Value, scheduled ? "normal" : "pending", info.Tables.Count, checkpoint.Value, resolved.Value, time, lag, tableIds);
    }

    private static List<TableId> ToTables(long[] ids)
    {
        var tables = new List<TableId>(ids.Length);
        foreach (long id in ids)
        {
            tables.Add(id);
        }

        return tables;
    }
}
