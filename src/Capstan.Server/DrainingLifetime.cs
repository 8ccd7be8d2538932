namespace Capstan.Server;

using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;

/// <summary>
/// The host lifetime of <c>capstan server</c>: SIGTERM, SIGINT (Ctrl+C) and SIGQUIT do not stop the
/// host at once (as the console lifetime does) but ask the capture to leave gracefully; the host
/// stops when the capture has left. Until then Kestrel keeps serving, so the draining capture
/// still receives the owner's requests. A second signal stops at once.
/// </summary>
public sealed class DrainingLifetime(CaptureSupervisor supervisor) : IHostLifetime, IDisposable
{
    private readonly List<PosixSignalRegistration> _registrations = [];

    /// <inheritdoc/>
    public Task WaitForStartAsync(CancellationToken cancellationToken)
    {
        foreach (var signal in (PosixSignal[])[PosixSignal.SIGTERM, PosixSignal.SIGINT, PosixSignal.SIGQUIT])
        {
            _registrations.Add(PosixSignalRegistration.Create(signal, OnSignal));
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }

        _registrations.Clear();
    }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        supervisor.RequestShutdown($"received {context.Signal}");
    }
}
