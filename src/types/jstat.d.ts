/** The part of jstat (a CommonJS module without bundled types) that the sweep statistics use. */
declare module "jstat" {
  const jstat: {
    readonly jStat: {
      readonly studentt: {
        /** The p-quantile of Student's t distribution with `dof` degrees of freedom. */
        inv(p: number, dof: number): number;
      };
    };
  };
  export default jstat;
}
