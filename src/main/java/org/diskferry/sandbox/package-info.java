/**
 * A local oVirt-compatible endpoint for trying diskferry and for end-to-end tests: the engine REST
 * API subset for disks and image transfers (SSO, JSON conventions, faults, the transfer phase
 * state machine) plus the ovirt-imageio data plane (daemon and proxy listeners), storing disks as
 * sparse files under a data directory. Entry points: {@link org.diskferry.sandbox.Sandbox} and
 * {@link org.diskferry.sandbox.SandboxConfig}; {@link org.diskferry.sandbox.FaultHook} injects
 * failures.
 */
package org.diskferry.sandbox;
