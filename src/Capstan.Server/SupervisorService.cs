namespace Capstan.Server;

using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

/// <summary>
/// Starts the <see cref="CaptureSupervisor"/> once Kestrel listens (the advertised ports are known),
/// and stops the host when the capture has left the cluster.
/// </summary>
internal sealed class SupervisorService(
    CaptureSupervisor supervisor, ServerContext context, IServer server, IHostApplicationLifetime lifetime, ILogger<SupervisorService> log)
    : IHostedService
{
    private Task _run = Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _run = Task.Run(RunAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (!supervisor.ShutdownRequested)
        {
            supervisor.RequestShutdown("the host is stopping");
        }

        try
        {
            await _run.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            supervisor.ForceStop();
            await _run.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task RunAsync()
    {
        try
        {
            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
            using (lifetime.ApplicationStopping.Register(() => started.TrySetCanceled()))
            {
                await started.Task.ConfigureAwait(false);
            }

            var capture = context.Advertise(server);
            log.LogInformation(
                "capstan server ready: capture {Capture}, gRPC {Grpc}, HTTP {Http}, cluster {Cluster}, session TTL {Ttl} s",
                capture.Id, capture.Address, capture.ApiAddress, context.Edges.Description, context.Settings.SessionTtl.TotalSeconds);
            await supervisor.RunAsync(capture).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The host stopped before it started.
        }
        catch (Exception error)
        {
            log.LogCritical(error, "the capture supervisor failed; stopping the server");
        }
        finally
        {
            lifetime.StopApplication();
        }
    }
}
