namespace Capstan.Api.Endpoints;

using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

/// <summary>RFC 7807 problem details the API answers with; every message says what to do next.</summary>
public static class Problems
{
    /// <summary>Base of the problem type URIs (documented in docs/OPERATIONS.md).</summary>
    public const string TypeBase = "https://capstan.dev/problems/";

    /// <summary>400: a parameter or body is invalid, or the scheduler refused the request.</summary>
    public static ProblemHttpResult BadRequest(string detail, string type = "invalid-parameter") =>
        Create(StatusCodes.Status400BadRequest, "Bad request", detail, type);

    /// <summary>400: the scheduler refused the command (the reason says why).</summary>
    public static ProblemHttpResult Refused(string detail) =>
        Create(StatusCodes.Status400BadRequest, "Request refused by the scheduler", detail, "scheduler-refused");

    /// <summary>404: no such changefeed, table or route.</summary>
    public static ProblemHttpResult NotFound(string detail) =>
        Create(StatusCodes.Status404NotFound, "Not found", detail, "not-found");

    /// <summary>409: the resource exists already.</summary>
    public static ProblemHttpResult Conflict(string detail) =>
        Create(StatusCodes.Status409Conflict, "Conflict", detail, "conflict");

    /// <summary>401: a bearer token is required.</summary>
    public static ProblemHttpResult Unauthorized(string detail) =>
        Create(StatusCodes.Status401Unauthorized, "Unauthorized", detail, "unauthorized");

    /// <summary>503: transient: no owner, owner changing, scheduler not created yet; retry.</summary>
    public static ProblemHttpResult Unavailable(string detail) =>
        Create(StatusCodes.Status503ServiceUnavailable, "Service unavailable", detail, "unavailable");

    /// <summary>502: forwarding to the owner failed.</summary>
    public static ProblemHttpResult BadGateway(string detail) =>
        Create(StatusCodes.Status502BadGateway, "Owner unreachable", detail, "owner-unreachable");

    /// <summary>Any problem.</summary>
    public static ProblemHttpResult Create(int status, string title, string detail, string type) =>
        TypedResults.Problem(new ProblemDetails
        {
            Status = status,
            Title = title,
            Detail = detail,
            Type = TypeBase + type,
        });
}
