namespace Capstan.Api.Endpoints;

using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

/// <summary>
/// The outermost filter of /api/v2: a failure of the cluster's edges (etcd unreachable, a timeout)
/// becomes a 503 problem ("retry"), anything else a 500 problem; never an HTML error page or a
/// dropped connection. Bad parameters never get here: handlers answer them with 400 first.
/// </summary>
internal sealed class UnexpectedErrorFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        try
        {
            return await next(context).ConfigureAwait(false);
        }
        catch (Exception error) when (!http.RequestAborted.IsCancellationRequested && IsTransient(error))
        {
            Log(http, error, LogLevel.Warning);
            return Problems.Unavailable($"the cluster's metadata or membership is not reachable right now ({error.GetType().Name}: {error.Message}); retry");
        }
        catch (Exception error) when (!http.RequestAborted.IsCancellationRequested)
        {
            Log(http, error, LogLevel.Error);
            return Problems.Create(StatusCodes.Status500InternalServerError, "Internal error",
                $"the server failed unexpectedly ({error.GetType().Name}: {error.Message}); this is a bug, please report it with the server log", "internal");
        }
    }

    private static bool IsTransient(Exception error) =>
        error is TimeoutException or HttpRequestException or OperationCanceledException
        || error.GetType().FullName == "Grpc.Core.RpcException";

    private static void Log(HttpContext http, Exception error, LogLevel level) =>
        http.RequestServices.GetService<ILoggerFactory>()?.CreateLogger("Capstan.Api")
            .Log(level, error, "{Method} {Path} failed", http.Request.Method, http.Request.Path);
}
